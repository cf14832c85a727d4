// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer (json.h): strings escaped, commas between members,
 * nothing buffered beyond stdio.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_DEPTH_MAX	63

static void json_quoted(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

/* Before each value: the comma after the one before it, then its key. */
static void json_member(struct json *j, const char *key)
{
	uint64_t bit = 1ULL << j->depth;

	if (j->depth) {
		if (j->more & bit)
			fputc(',', j->f);
		j->more |= bit;
	}
	if (key) {
		json_quoted(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

static void json_open(struct json *j, const char *key, char c)
{
	json_member(j, key);
	fputc(c, j->f);
	/* Deeper than ipcboxctl ever nests (two): a bug, not an input. */
	if (j->depth == JSON_DEPTH_MAX)
		abort();
	j->depth++;
	j->more &= ~(1ULL << j->depth);
}

static void json_close(struct json *j, char c)
{
	j->depth--;
	fputc(c, j->f);
}

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->more = 0;
}

void json_end(struct json *j)
{
	fputc('\n', j->f);
}

void json_object_begin(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_object_end(struct json *j)
{
	json_close(j, '}');
}

void json_array_begin(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_array_end(struct json *j)
{
	json_close(j, ']');
}

void json_strn(struct json *j, const char *key, const char *s, size_t len)
{
	json_member(j, key);
	json_quoted(j->f, s, len);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, strlen(s));
}

void json_strf(struct json *j, const char *key, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;	/* cut: the formats here are short */
	json_strn(j, key, buf, (size_t)n);
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	json_member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	json_member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_number(struct json *j, const char *key, const char *digits)
{
	json_member(j, key);
	fputs(digits, j->f);
}
