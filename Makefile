# SPDX-License-Identifier: GPL-2.0
#
# ipcbox: top-level driver. Kbuild builds the module; this Makefile builds
# it per kernel, builds user space and selftests, and runs everything in
# QEMU against Debian's kernels. See README.md.
#
#   make                ipcbox.ko for the running kernel (or KDIR/KVER) into
#                       build/local/, like any out-of-tree module; installs nothing
#   make deps           host packages + kernel images/headers into the cache
#   make all            everything below for the kernels in KERNELS (runs deps)
#   make module         ipcbox.ko for each kernel in KERNELS (build/<k>/ipcbox.ko)
#   make userspace      libipcbox, ipcboxctl, examples (build/userspace)
#   make stage          user space installed into build/stage (PREFIX=/usr)
#   make selftests      kselftest binaries (build/selftests)
#   make static-check   W=1, sparse (C=2), checkpatch --strict
#   make check          all of the above, runner self-check, VM tests per kernel
#   make check-fresh    make demo in a clean Debian 12 root (make check runs it first)
#   make vm             interactive shell in the guest with ipcbox loaded
#   make demo           boot, load, show /dev/ipcbox and the module's INFO
#   make bench          ipcbox vs its peers in one VM boot (build/bench, docs/performance.md)
#   make bench-quick    the headline ratios, held against bench/baseline.csv; PASS or FAIL
#   make bench-profile  where the instructions go: perf in the guest (build/bench-profile)
#   make bench-baseline record the last bench-quick ratios in bench/baseline.csv
#   make clean
#
# Variables: KERNEL=6.1|6.12|6.12-rt|debug (one kernel) or KERNELS="6.1
# 6.12" (the default for building); "make check" runs CHECK_KERNELS
# ("6.1 6.12 debug" unless KERNEL/KERNELS is given). "debug" is built from
# linux-source-6.12 with KASAN, lockdep, kmemleak and fault injection
# (scripts/debug-kernel.sh; cached, about 15 min the first time).
# KDIR=/path/to/kernel/build or KVER=x.y.z builds the module against that
# tree instead (module target only); ACCEL=tcg|kvm; IPCBOX_CACHE (default
# /var/cache/ipcbox); BOOT_TIMEOUT, TEST_TIMEOUT.

KERNELS		?= 6.1 6.12
CHECK_KERNELS	?= 6.1 6.12 debug
ifneq ($(KERNEL),)
override KERNELS := $(KERNEL)
override CHECK_KERNELS := $(KERNEL)
else ifneq ($(origin KERNELS),file)
override CHECK_KERNELS := $(KERNELS)
endif
IPCBOX_CACHE	?= /var/cache/ipcbox
ACCEL		?= tcg
BUILD		:= $(CURDIR)/build
SELFCHECK_KERNEL ?= $(firstword $(KERNELS))
BOOT_TIMEOUT	?= 1800
TEST_TIMEOUT	?= 600

export IPCBOX_CACHE ACCEL BOOT_TIMEOUT TEST_TIMEOUT

# An explicit kernel tree (e.g. the running kernel's) replaces the matrix
# for "make module"; nothing from the cache is needed then.
ifneq ($(KDIR)$(KVER),)
MODULE_KERNELS	:= local
MODULE_DEPS	:=
export KDIR KVER
else
MODULE_KERNELS	:= $(KERNELS)
MODULE_DEPS	:= deps
endif

kenv		= $(shell $(CURDIR)/scripts/kenv.sh $(1) $(2))
VERSION		:= $(shell $(MAKE) -s --no-print-directory -C userspace version)

# "make" alone: the module for the running kernel, as any user, from the
# installed headers; it never runs apt.
LOCAL_KVER	:= $(or $(KVER),$(shell uname -r))
LOCAL_KDIR	:= $(or $(KDIR),/lib/modules/$(LOCAL_KVER)/build)
.DEFAULT_GOAL	:= modules

modules:
	$(if $(wildcard $(LOCAL_KDIR)/Makefile),,$(error no kernel headers in \
		$(LOCAL_KDIR): install linux-headers-$(LOCAL_KVER), or set KDIR=))
	@KDIR=$(LOCAL_KDIR) scripts/build-module.sh local $(BUILD)/local

all: module userspace stage selftests tools

deps:
	@KERNELS="$(KERNELS)" scripts/deps.sh

module: $(MODULE_DEPS)
	@set -e; for k in $(MODULE_KERNELS); do \
		scripts/build-module.sh $$k $(BUILD)/$$k; \
	done

userspace:
	$(MAKE) -C userspace O=$(BUILD)/userspace

selftests: deps
	$(MAKE) -C selftests O=$(BUILD)/selftests KSFT_INCLUDE=$(call kenv,-,KSFT_INCLUDE)

# User space installed as a package would be, for the VM test that builds
# against an installed libipcbox (userspace/tests/install-test.sh).
stage: userspace
	@rm -rf $(BUILD)/stage
	@$(MAKE) -s --no-print-directory -C userspace O=$(BUILD)/userspace \
		DESTDIR=$(BUILD)/stage PREFIX=/usr install >/dev/null
	@echo "stage: $(BUILD)/stage (PREFIX=/usr)"

# Prints the INFO struct in the demo when ipcboxctl is not there; the
# feature names are ipcboxctl's (userspace/tools/ipcbox_features.h).
tools: $(BUILD)/tools/ipcbox-info

$(BUILD)/tools/ipcbox-info: scripts/ipcbox-info.c uapi/linux/ipcbox.h \
			    userspace/tools/ipcbox_features.h
	@mkdir -p $(dir $@)
	$(CC) -Wall -Wextra -Werror -O2 -Iuapi -iquote userspace/tools -o $@ $<

static-check: deps
	@scripts/static-check.sh $(BUILD) $(KERNELS)

selfcheck: deps
	@scripts/selfcheck.sh $(SELFCHECK_KERNEL) $(BUILD)

# One VM test run per kernel: vm-test-6.1, vm-test-6.12, vm-test-6.12-rt.
vm-test: $(addprefix vm-test-,$(KERNELS))

# Slab debugging (red zones, poisoning, owner tracking) on every kernel
# for the memory-cgroup kmalloc caches, where ipcbox's messages live, and
# for its mailboxes' cache; the debug kernel is slower and gets more time.
TEST_APPEND	?= slub_debug=FZPU,kmalloc-cg-*,ipcbox_mailbox
vm_timeouts	= $(if $(filter debug,$(1)),-T 1200 -B 3600)
# KASAN and lockdep make each message several times dearer: prodcons moves
# fewer on the debug kernel (the torture and signal tests are timed), and
# fuzz, which does about a quarter of the calls per second there, runs
# four times as long to make as many.
vm_env		= $(if $(filter debug,$(1)),IPCBOX_PRODCONS_MSGS=$${IPCBOX_PRODCONS_MSGS:-20000} \
		  IPCBOX_FUZZ_SECONDS=$${IPCBOX_FUZZ_SECONDS:-120})

vm-test-%: deps
	$(call vm_env,$*) VM_APPEND="$(TEST_APPEND) $(VM_APPEND)" \
	scripts/vm-run.sh -k $* -o $(BUILD)/vm/$* -m $(BUILD)/$*/ipcbox.ko \
		-t $(BUILD)/selftests -u $(BUILD)/userspace $(call vm_timeouts,$*)

# The README's first command on a clean Debian 12 root (scripts/check-fresh.sh).
check-fresh:
	@scripts/check-fresh.sh $(BUILD)

# Shows that the stage fails when deps.sh lacks a package.
check-fresh-selfcheck:
	@scripts/check-fresh.sh --selfcheck $(BUILD)

check:
	@KERNELS="$(CHECK_KERNELS)" SELFCHECK_KERNEL="$(SELFCHECK_KERNEL)" \
		MAKE="$(MAKE)" scripts/check.sh $(BUILD)

VM_KERNEL := $(firstword $(KERNELS))

vm: all
	@scripts/vm-run.sh -M shell -k $(VM_KERNEL) -o $(BUILD)/vm/$(VM_KERNEL)-shell \
		-m $(BUILD)/$(VM_KERNEL)/ipcbox.ko -t $(BUILD)/selftests -u $(BUILD)/userspace

demo: all
	@scripts/vm-run.sh -M demo -k $(VM_KERNEL) -o $(BUILD)/vm/$(VM_KERNEL)-demo \
		-m $(BUILD)/$(VM_KERNEL)/ipcbox.ko -u $(BUILD)/userspace

# Install on a real machine: the module for KVER (default: the running
# kernel) with modules_install into /lib/modules/KVER/extra, and libipcbox,
# its header and pkg-config file, ipcboxctl and the man pages under PREFIX.
# DESTDIR is honoured. dkms.conf builds the module the DKMS way instead.
PREFIX		?= /usr/local
INSTALL_KVER	?= $(or $(KVER),$(shell uname -r))
INSTALL_KDIR	?= $(or $(KDIR),/lib/modules/$(INSTALL_KVER)/build)

install:
	KDIR=$(INSTALL_KDIR) scripts/build-module.sh local $(BUILD)/install
	$(MAKE) -C $(INSTALL_KDIR) M=$(BUILD)/install/src \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra modules_install
	$(MAKE) -C userspace O=$(BUILD)/userspace PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR) install

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(INSTALL_KVER)/extra/ipcbox.ko*
	$(MAKE) -C userspace O=$(BUILD)/userspace PREFIX=$(PREFIX) \
		DESTDIR=$(DESTDIR) uninstall

# The module's sources for DKMS: then "dkms install ipcbox/$(VERSION)".
DKMS_SRC	= $(DESTDIR)/usr/src/ipcbox-$(VERSION)

dkms-src:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/module $(DKMS_SRC)/uapi/linux $(DKMS_SRC)/userspace/lib
	install -m 0644 Kbuild $(DKMS_SRC)/
	install -m 0644 module/*.[ch] $(DKMS_SRC)/module/
	install -m 0644 uapi/linux/ipcbox.h $(DKMS_SRC)/uapi/linux/
	install -m 0644 userspace/lib/libipcbox.h $(DKMS_SRC)/userspace/lib/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf
	@echo "dkms-src: $(DKMS_SRC); next: dkms install ipcbox/$(VERSION)"

# The benchmark: one VM boot on BENCH_KERNEL; results in build/bench.
BENCH_KERNEL	?= 6.12

bench-build:
	$(MAKE) -C bench O=$(BUILD)/bench ARGS="$(BENCH_ARGS)"

# gnuplot (the chart) comes with the other host packages, from deps.
bench: deps
	$(MAKE) module KERNEL=$(BENCH_KERNEL)
	$(MAKE) bench-build BENCH_ARGS=
	bench/bench.sh -k $(BENCH_KERNEL) -m $(BUILD)/$(BENCH_KERNEL)/ipcbox.ko \
		-g $(BUILD)/bench/guest -o $(BUILD)/bench

bench-quick: deps
	$(MAKE) module KERNEL=$(BENCH_KERNEL)
	$(MAKE) -C bench O=$(BUILD)/bench-quick ARGS=--quick
	bench/bench.sh -q -k $(BENCH_KERNEL) -m $(BUILD)/$(BENCH_KERNEL)/ipcbox.ko \
		-g $(BUILD)/bench-quick/guest -o $(BUILD)/bench-quick

# Where the instructions go (perf in the guest): build/bench-profile/*.txt.
bench-profile:
	IPCBOX_DEPS_EXTRA=linux-perf scripts/deps.sh --host
	$(MAKE) deps
	$(MAKE) module KERNEL=$(BENCH_KERNEL)
	$(MAKE) bench-build BENCH_ARGS=
	bench/profile.sh -k $(BENCH_KERNEL) -m $(BUILD)/$(BENCH_KERNEL)/ipcbox.ko \
		-b $(BUILD)/bench/guest/ipcbox-bench -o $(BUILD)/bench-profile

# On purpose, in the commit that moves the figures: see bench/baseline.csv.
bench-baseline:
	bench/compare.sh -w $(BUILD)/bench-quick/results.csv bench/baseline.csv

clean:
	-$(MAKE) -C userspace O=$(BUILD)/userspace clean
	rm -rf $(BUILD)

.PHONY: modules all deps module check-fresh check-fresh-selfcheck dkms-src userspace stage selftests tools static-check selfcheck \
	vm-test check vm demo clean install uninstall bench bench-build bench-quick \
	bench-baseline bench-profile
