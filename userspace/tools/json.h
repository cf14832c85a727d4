/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipcboxctl's one JSON writer. Every value is written as a member of the
 * object or array open at the time, with its key in an object (NULL in an
 * array or at the top), and the writer puts in the commas: no command
 * spells out JSON punctuation, so none can get it wrong.
 */
#ifndef IPCBOXCTL_JSON_H
#define IPCBOXCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json {
	FILE *f;
	unsigned int depth;	/* objects and arrays open, at most 63 */
	uint64_t more;		/* bit d: the one open at depth d has members */
};

void json_init(struct json *j, FILE *f);
/* A top-level value is done: it ends its line. */
void json_end(struct json *j);

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

void json_str(struct json *j, const char *key, const char *s);
/* @len bytes of @s, which need not be text: other bytes become \u00XX. */
void json_strn(struct json *j, const char *key, const char *s, size_t len);
void __attribute__((format(printf, 3, 4)))
json_strf(struct json *j, const char *key, const char *fmt, ...);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
void json_bool(struct json *j, const char *key, bool v);
/* A number already written out in decimal digits (a sysfs attribute). */
void json_number(struct json *j, const char *key, const char *digits);

#endif /* IPCBOXCTL_JSON_H */
