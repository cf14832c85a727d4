// SPDX-License-Identifier: GPL-2.0
/*
 * ipcbox message memory: a message is one kvmalloc() object, header and
 * payload (and extension) together, charged to the sender's memory
 * cgroup. Small ones come from the kmalloc size classes, so a 64-byte
 * message takes a 128-byte object; large ones may be vmalloc'ed.
 *
 * The CALL context lives here too: it is message memory, freed with the
 * reply it may still hold.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/percpu_counter.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ipcbox.h"

static_assert(!IS_ENABLED(CONFIG_64BIT) || sizeof(struct ipcbox_msg) == 64);

/*
 * Any user can fill a queue, so hitting the memory cgroup's limit (or
 * running out of memory) must fail the send with ENOMEM, as documented,
 * rather than wake the OOM killer or log a warning: try hard, then fail
 * quietly.
 */
#define IPCBOX_GFP_MSG	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/*
 * Messages and CALL contexts alive, module-wide: with no slab cache of its
 * own to destroy, this is how unloading proves that nothing leaked.
 */
static struct percpu_counter ipcbox_live;

static void __init ipcbox_classes_init(void);

int __init ipcbox_msg_init(void)
{
	ipcbox_classes_init();
	return percpu_counter_init(&ipcbox_live, 0, GFP_KERNEL);
}

void ipcbox_msg_exit(void)
{
	s64 left = percpu_counter_sum(&ipcbox_live);

	WARN(left, "ipcbox: %lld messages or calls leaked\n", left);
	percpu_counter_destroy(&ipcbox_live);
}

/* ipcbox_copy_out() of a caller's size other than the kernel's. */
int ipcbox_copy_out_sized(void __user *uarg, size_t usize, const void *k,
			  size_t ksize)
{
	if (copy_to_user(uarg, k, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

/* Free a message's object, whatever its header says; it may sleep. */
void ipcbox_msg_destroy(struct ipcbox_msg *msg)
{
	kvfree(msg);
	percpu_counter_dec(&ipcbox_live);
}

/* The size of a message's one object: header, payload, extension. */
static size_t ipcbox_msg_size(size_t len, bool ext)
{
	return sizeof(struct ipcbox_msg) +
	       (ext ? ALIGN(len, 8) + sizeof(struct ipcbox_msg_ext) : len);
}

/*
 * Every mailbox keeps the objects of the last small messages it freed
 * (up to IPCBOX_SPARE_SLOTS + IPCBOX_SPARES of them, of any kmalloc size
 * classes up to IPCBOX_SPARE_SIZE_MAX), for its next messages of the same
 * classes: a queue that fills and drains then allocates nothing, as a
 * pipe reuses its pages, nor does a round trip or a CALL, whose request
 * and reply are of two classes. The objects stay charged to the memory cgroup of
 * whoever allocated them.
 */
#define IPCBOX_SPARE_SIZE_MAX	256
/* How many spares a message looks at for one of its class. */
#define IPCBOX_SPARE_LOOK	4

/*
 * kmalloc_size_roundup() of the sizes up to IPCBOX_SPARE_SIZE_MAX, by
 * eighths (kmalloc's classes are multiples of 8): a message asks for its
 * class when it is made and when it is freed, and a spare's is asked
 * when it is looked at, so a table beats a call each time.
 */
static u16 ipcbox_classes[IPCBOX_SPARE_SIZE_MAX / 8 + 1] __ro_after_init;

static void __init ipcbox_classes_init(void)
{
	unsigned int i;

	for (i = 1; i < ARRAY_SIZE(ipcbox_classes); i++)
		ipcbox_classes[i] = kmalloc_size_roundup(i * 8);
}

/* The class of a message object of @size bytes; 0: none kept as spare. */
static size_t ipcbox_msg_class(size_t size)
{
	return size <= IPCBOX_SPARE_SIZE_MAX ?
	       ipcbox_classes[DIV_ROUND_UP(size, 8)] : 0;
}

/* The class of a spare object: its stale header says what it was made for. */
static size_t ipcbox_spare_class(const struct ipcbox_msg *msg)
{
	return ipcbox_msg_class(ipcbox_msg_size(msg->len,
						msg->flags & IPCBOX_MSG_EXT));
}

/*
 * Keep @msg's object in @mb's stack of spares; false when it is full. A
 * mailbox keeps no more of them than it can queue messages: a round
 * trip, capacity 1, needs the slots only.
 */
static bool ipcbox_spare_push(struct ipcbox_mailbox *mb,
			      struct ipcbox_msg *msg)
{
	bool kept = false;

	spin_lock(&mb->spare_lock);
	if (mb->nr_spares < min_t(u32, IPCBOX_SPARES, mb->capacity)) {
		msg->next_spare = mb->spares;
		mb->spares = msg;
		mb->nr_spares++;
		kept = true;
	}
	spin_unlock(&mb->spare_lock);
	return kept;
}

/* Keep @msg's object as a spare of @mb; false when @mb has enough. */
static bool ipcbox_spare_put(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
{
	int i;

	for (i = 0; i < IPCBOX_SPARE_SLOTS; i++)
		if (!READ_ONCE(mb->spare[i]) && !cmpxchg(&mb->spare[i], NULL, msg))
			return true;
	return ipcbox_spare_push(mb, msg);
}

/*
 * A spare object of @class from @mb, or NULL. The last ones freed are in
 * @mb's slots, taken with an exchange, no lock: enough for a round trip
 * or a CALL; those before them in its stack, for a queue that fills.
 */
static struct ipcbox_msg *ipcbox_spare_get(struct ipcbox_mailbox *mb,
					   size_t class)
{
	struct ipcbox_msg *msg, **pos, *found = NULL;
	int i, n = 0;

	for (i = 0; i < IPCBOX_SPARE_SLOTS; i++) {
		/*
		 * Take the object before reading its header: once another
		 * task took it, it may be in use or freed.
		 */
		if (!READ_ONCE(mb->spare[i]))
			continue;
		msg = xchg(&mb->spare[i], NULL);
		if (!msg)
			continue;
		if (ipcbox_spare_class(msg) == class)
			return msg;
		/* Of another class: back in its slot, or on the stack. */
		if (cmpxchg(&mb->spare[i], NULL, msg) &&
		    !ipcbox_spare_push(mb, msg))
			ipcbox_msg_destroy(msg);
	}
	if (!READ_ONCE(mb->nr_spares))
		return NULL;
	spin_lock(&mb->spare_lock);
	for (pos = &mb->spares; *pos && n < IPCBOX_SPARE_LOOK;
	     pos = &(*pos)->next_spare, n++) {
		if (ipcbox_spare_class(*pos) == class) {
			found = *pos;
			*pos = found->next_spare;
			mb->nr_spares--;
			break;
		}
	}
	spin_unlock(&mb->spare_lock);
	return found;
}

/* A spare object of the class of @size from @mb, or a new object. */
static struct ipcbox_msg *ipcbox_msg_get(struct ipcbox_mailbox *mb,
					 size_t size)
{
	size_t class = ipcbox_msg_class(size);
	struct ipcbox_msg *msg;

	if (class && mb) {
		msg = ipcbox_spare_get(mb, class);
		if (msg)
			return msg;
	}
	msg = kvmalloc(class ?: size, IPCBOX_GFP_MSG);
	if (msg)
		percpu_counter_inc(&ipcbox_live);
	return msg;
}

/* Free the spare objects and context of @mb, which is going away. */
void ipcbox_spares_free(struct ipcbox_mailbox *mb)
{
	struct ipcbox_msg *msg, *next;
	int i;

	for (i = 0; i < IPCBOX_SPARE_SLOTS; i++)
		if (mb->spare[i])
			ipcbox_msg_destroy(mb->spare[i]);
	for (msg = mb->spares; msg; msg = next) {
		next = msg->next_spare;
		ipcbox_msg_destroy(msg);
	}
	if (mb->spare_call)
		percpu_counter_dec(&ipcbox_live);
	kfree(mb->spare_call);
}

/**
 * ipcbox_msg_alloc() - a message of @len bytes copied from @buf, by current
 * @mb:		The mailbox it is for, whose spare object it may take, or NULL.
 * @buf:	The payload in user space.
 * @len:	Its length.
 * @ext:	It needs the extension (a send that may wait for its message
 *		to be taken, CACHE, CALL); so does a sender that is not its
 *		process's main thread, for its thread id.
 *
 * Return: the message, its fields but the payload zeroed, or
 * ERR_PTR(-ENOMEM) or ERR_PTR(-EFAULT).
 */
struct ipcbox_msg *ipcbox_msg_alloc(struct ipcbox_mailbox *mb,
				    const void __user *buf, size_t len,
				    bool ext)
{
	struct pid *tid = task_pid(current), *tgid = task_tgid(current);
	struct ipcbox_msg_ext *x;
	struct ipcbox_msg *msg;

	ext = ext || tid != tgid;
	msg = ipcbox_msg_get(mb, ipcbox_msg_size(len, ext));
	if (!msg)
		return ERR_PTR(-ENOMEM);
	if (ipcbox_copy_from_user(msg->data, buf, len)) {
		ipcbox_msg_destroy(msg);
		return ERR_PTR(-EFAULT);
	}
	INIT_LIST_HEAD(&msg->node);
	msg->seq = 0;
	msg->tag = 0;
	msg->timestamp = 0;
	msg->tgid = get_pid(tgid);
	msg->uid = current_euid();
	msg->gid = current_egid();
	msg->len = len;
	msg->prio = 0;
	msg->flags = ext ? IPCBOX_MSG_EXT : 0;
	msg->holders = 0;
	x = ipcbox_msg_ext(msg);
	if (x) {
		x->tid = tid != tgid ? get_pid(tid) : NULL;
		x->waiter = NULL;
		x->call = NULL;
		x->parker = NULL;
	}
	return msg;
}

/**
 * ipcbox_msg_free() - free a message that is off every list
 * @mb:		The mailbox it was for, which may keep the object, or NULL.
 * @msg:	The message.
 *
 * It may sleep (kvfree).
 */
void ipcbox_msg_free(struct ipcbox_mailbox *mb, struct ipcbox_msg *msg)
{
	struct ipcbox_msg_ext *ext = ipcbox_msg_ext(msg);

	put_pid(msg->tgid);
	if (ext) {
		put_pid(ext->tid);
		if (ext->call)
			ipcbox_call_put(ext->call);
	}
	if (mb && ipcbox_spare_class(msg) && ipcbox_spare_put(mb, msg))
		return;
	ipcbox_msg_destroy(msg);
}

/**
 * ipcbox_call_alloc() - a new CALL context, referenced by the caller
 * @mb:		The mailbox of the call, whose spare context it may take.
 * @reply_size:	The caller's reply buffer size.
 *
 * Return: the context, or NULL without memory.
 */
struct ipcbox_call_ctx *ipcbox_call_alloc(struct ipcbox_mailbox *mb,
					  u32 reply_size)
{
	struct ipcbox_call_ctx *call = NULL;

	if (READ_ONCE(mb->spare_call))
		call = xchg(&mb->spare_call, NULL);
	if (call) {
		memset(call, 0, sizeof(*call));
	} else {
		call = kzalloc(sizeof(*call), IPCBOX_GFP_MSG);
		if (!call)
			return NULL;
		percpu_counter_inc(&ipcbox_live);
	}
	refcount_set(&call->ref, 1);
	INIT_LIST_HEAD(&call->mb_node);
	INIT_LIST_HEAD(&call->srv_node);
	call->state = IPCBOX_CALL_QUEUED;
	call->caller = current;
	call->reply_size = reply_size;
	return call;
}

/* A context nobody references: @mb keeps one for its next call. */
static void ipcbox_call_free(struct ipcbox_mailbox *mb,
			     struct ipcbox_call_ctx *call)
{
	if (call->reply)
		ipcbox_msg_free(mb, call->reply);
	if (mb && !cmpxchg(&mb->spare_call, NULL, call))
		return;
	kfree(call);
	percpu_counter_dec(&ipcbox_live);
}

/*
 * The caller's put: the last one, as a rule, since the request and the
 * server let go of the call before the caller does; then @mb keeps the
 * context for its next call.
 */
void ipcbox_call_put_spare(struct ipcbox_mailbox *mb,
			   struct ipcbox_call_ctx *call)
{
	if (refcount_dec_and_test(&call->ref))
		ipcbox_call_free(mb, call);
}

/* Drop a reference; the last one frees the context and an unread reply. */
void ipcbox_call_put(struct ipcbox_call_ctx *call)
{
	if (refcount_dec_and_test(&call->ref))
		ipcbox_call_free(NULL, call);
}
