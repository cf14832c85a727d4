// SPDX-License-Identifier: GPL-2.0
/*
 * Runner self-check: a kselftest that must be reported as failing.
 */
#include "kselftest_harness.h"

TEST(selfcheck_passes)
{
	EXPECT_EQ(1, 1);
}

TEST(selfcheck_deliberately_fails)
{
	EXPECT_EQ(1, 2) {
		TH_LOG("this failure is intended: the runner must catch it");
	}
}

TEST_HARNESS_MAIN
