// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox quotas: how many mailboxes exist, and how many each user has.
 *
 * A user is counted per user namespace, the way ucounts count POSIX
 * message queues: a mailbox made by uid U in namespace N counts against
 * (N, U), against (parent of N, owner of N), and so on up to the initial
 * namespace, and every level is held to max_per_user. So a user who owns
 * a namespace with a range of uids mapped into it still has one quota in
 * the namespace above, not one per mapped uid.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "ipcbox.h"

/**
 * struct ipcbox_quota - mailboxes counted against one user in one namespace
 * @list:	In ipcbox_quotas.
 * @ns:		The user namespace, referenced.
 * @uid:	The user.
 * @parent:	The same mailboxes one namespace up, or NULL in the initial one.
 * @count:	Mailboxes counted here, including those of namespaces below.
 */
struct ipcbox_quota {
	struct list_head list;
	struct user_namespace *ns;
	kuid_t uid;
	struct ipcbox_quota *parent;
	unsigned int count;
};

static DEFINE_MUTEX(ipcbox_quota_mutex);
static LIST_HEAD(ipcbox_quotas);
static unsigned int ipcbox_nr_mailboxes;	/* all of them */

static struct ipcbox_quota *ipcbox_quota_find(struct user_namespace *ns,
					      kuid_t uid)
{
	struct ipcbox_quota *q;

	lockdep_assert_held(&ipcbox_quota_mutex);
	list_for_each_entry(q, &ipcbox_quotas, list)
		if (q->ns == ns && uid_eq(q->uid, uid))
			return q;
	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return NULL;
	q->ns = get_user_ns(ns);
	q->uid = uid;
	list_add(&q->list, &ipcbox_quotas);
	return q;
}

static void ipcbox_quota_free(struct ipcbox_quota *q)
{
	list_del(&q->list);
	put_user_ns(q->ns);
	kfree(q);
}

/*
 * Drop one count from @q and each level above it up to @last (NULL: to
 * the initial namespace); free the unused ones.
 */
static void ipcbox_quota_drop(struct ipcbox_quota *q, struct ipcbox_quota *last)
{
	struct ipcbox_quota *parent;
	bool done = false;

	lockdep_assert_held(&ipcbox_quota_mutex);
	for (; q && !done; q = parent) {
		parent = q->parent;
		done = q == last;
		if (!--q->count)
			ipcbox_quota_free(q);
	}
}

/**
 * ipcbox_quota_charge() - count one more mailbox for the current user
 *
 * Return: the quota to hand back to ipcbox_quota_uncharge() when the
 * mailbox is freed, or ERR_PTR(-ENOSPC) (max_mailboxes exist),
 * ERR_PTR(-EDQUOT) (the user, at some namespace level, has max_per_user)
 * or ERR_PTR(-ENOMEM).
 */
struct ipcbox_quota *ipcbox_quota_charge(void)
{
	struct user_namespace *ns = current_user_ns();
	unsigned int limit = READ_ONCE(ipcbox_max_per_user);
	struct ipcbox_quota *first = NULL, *below = NULL, *q;
	kuid_t uid = current_fsuid();
	int ret = 0;

	mutex_lock(&ipcbox_quota_mutex);
	if (ipcbox_nr_mailboxes >= READ_ONCE(ipcbox_max_mailboxes)) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	for (;;) {
		q = ipcbox_quota_find(ns, uid);
		if (!q) {
			ret = -ENOMEM;
			break;
		}
		if (q->count >= limit) {
			if (!q->count)
				ipcbox_quota_free(q);
			ret = -EDQUOT;
			break;
		}
		q->count++;
		if (below)
			below->parent = q;
		else
			first = q;
		below = q;
		if (ns == &init_user_ns)
			break;
		uid = ns->owner;
		ns = ns->parent;
	}
	if (ret) {
		if (first)
			ipcbox_quota_drop(first, below);
		goto out_unlock;
	}
	ipcbox_nr_mailboxes++;
out_unlock:
	mutex_unlock(&ipcbox_quota_mutex);
	return ret ? ERR_PTR(ret) : first;
}

/* A counted mailbox is gone. */
void ipcbox_quota_uncharge(struct ipcbox_quota *quota)
{
	mutex_lock(&ipcbox_quota_mutex);
	ipcbox_quota_drop(quota, NULL);
	ipcbox_nr_mailboxes--;
	mutex_unlock(&ipcbox_quota_mutex);
}

/* Mailboxes in existence, for INFO. */
unsigned int ipcbox_quota_mailboxes(void)
{
	return READ_ONCE(ipcbox_nr_mailboxes);
}
