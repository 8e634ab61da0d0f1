/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * conf.c: daemon settings: compiled-in defaults, the config file
 * (iomuxd.conf(5)) and the command line, flags winning.
 *
 * One table describes every key: its name, the struct conf field it
 * sets, how its value is parsed, the accepted range and what a reload
 * does with it. The file reader, the command line (conf_set_key()), the
 * "locked" copy done by conf_load() and a reload (conf_apply()) all walk
 * that table, so a new key is one table line plus one field (plus, if
 * changing it must reach live state, a line in server_reconfigure()).
 *
 * Invariants: a struct conf is only ever replaced whole. conf_load()
 * builds the new settings in a local copy and assigns it at the very
 * end, so a bad file (or a bad reload) leaves the running settings
 * exactly as they were. Numbers are parsed without sign, junk or
 * overflow, and every value is range-checked before it is stored.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "iomux-proto.h"
#include "policy.h"

#define KIB		UINT64_C(1024)
#define MIB		(KIB * 1024)
#define GIB		(MIB * 1024)
#define MS_MAX		UINT32_C(86400000)	/* timeouts: at most 1 day */

enum vtype {
	V_PATH,		/* char[] socket path, must fit sun_path */
	V_FILE,		/* char[] another file's path */
	V_RULE,		/* appended to rules[]/nrules */
	V_MODE,		/* mode_t, octal */
	V_TCP,		/* appended to tcp[]/ntcp */
	V_BOOL,		/* bool */
	V_NAME,		/* char[] backend name */
	V_INT,		/* int */
	V_SIZE32,	/* uint32_t, size with suffix */
	V_SIZE,		/* size_t, size with suffix */
	V_MS		/* uint32_t, time in ms */
};

/*
 * What a reload (SIGHUP) does with a key; see conf_apply(). A new key is
 * R_LIVE unless something built from it at start cannot be rebuilt
 * under running clients.
 */
enum reload {
	R_LIVE,		/* the new value applies at once */
	R_START,	/* read at start only: sockets, the loop backend */
	R_LOWER		/* lowered at once, raised at the next start; 0 is
			   no limit. For numbers only */
};

struct key {
	const char	*name;
	int		 key;
	enum vtype	 type;
	enum reload	 reload;
	size_t		 off;
	size_t		 size;
	uint64_t	 min, max;
};

/* struct conf_set has one bit per key. */
_Static_assert(CONF_K_COUNT <= 64, "too many keys for struct conf_set");
_Static_assert(CONF_RULES_MAX == POLICY_RULES_MAX &&
    CONF_RULES_TEXT == POLICY_TEXT_MAX && CONF_LINE_MAX == POLICY_LINE_MAX,
    "conf.h and policy.h must agree on the rules' limits");

#define F(f)	offsetof(struct conf, f), sizeof(((struct conf *)0)->f)

/*
 * The order is that of iomuxd.conf(5), which conf_set_names() keeps.
 * max_clients is R_LOWER because the loop and the fd limit were sized
 * for it at start (server.c's size_clients()).
 */
static const struct key keys[] = {
	{ "socket", CONF_K_SOCKET, V_PATH, R_START, F(socket_path), 0, 0 },
	{ "socket_mode", CONF_K_SOCKET_MODE, V_MODE, R_START, F(socket_mode),
	    0, 0777 },
	{ "tcp", CONF_K_TCP, V_TCP, R_START, F(tcp), 0, 0 },
	{ "tcp_allow_remote", CONF_K_TCP_ALLOW_REMOTE, V_BOOL, R_START,
	    F(tcp_allow_remote), 0, 1 },
	{ "backend", CONF_K_BACKEND, V_NAME, R_START, F(backend), 0, 0 },
	{ "backlog", CONF_K_BACKLOG, V_INT, R_START, F(backlog), 1, 65535 },
	{ "frame_max", CONF_K_FRAME_MAX, V_SIZE32, R_LIVE, F(frame_max),
	    4 * KIB, 64 * MIB },
	{ "output_limit", CONF_K_OUTPUT_LIMIT, V_SIZE, R_LIVE,
	    F(output_limit), 4 * KIB, 4 * GIB },
	{ "output_high", CONF_K_OUTPUT_HIGH, V_SIZE, R_LIVE, F(output_high),
	    4 * KIB, 4 * GIB },
	{ "output_timeout", CONF_K_OUTPUT_TIMEOUT, V_MS, R_LIVE,
	    F(output_timeout_ms), 0, MS_MAX },
	{ "max_clients", CONF_K_MAX_CLIENTS, V_INT, R_LOWER, F(max_clients),
	    0, 1000000 },
	{ "frame_timeout", CONF_K_FRAME_TIMEOUT, V_MS, R_LIVE,
	    F(frame_timeout_ms), 1, MS_MAX },
	{ "idle_timeout", CONF_K_IDLE_TIMEOUT, V_MS, R_LIVE,
	    F(idle_timeout_ms), 0, MS_MAX },
	{ "shutdown_timeout", CONF_K_SHUTDOWN_TIMEOUT, V_MS, R_LIVE,
	    F(shutdown_timeout_ms), 0, MS_MAX },
	{ "reqs_per_wakeup", CONF_K_REQS_PER_WAKEUP, V_INT, R_LIVE,
	    F(reqs_per_wakeup), 1, 1024 },
	{ "accepts_per_wakeup", CONF_K_ACCEPTS_PER_WAKEUP, V_INT, R_LIVE,
	    F(accepts_per_wakeup), 1, 1024 },
	{ "verbose", CONF_K_VERBOSE, V_INT, R_LIVE, F(verbose), 0, 9 },
	{ "key_max", CONF_K_KEY_MAX, V_SIZE32, R_LIVE, F(key_max),
	    1, 64 * KIB },
	{ "value_max", CONF_K_VALUE_MAX, V_SIZE32, R_LIVE, F(value_max),
	    1, 64 * MIB },
	{ "max_memory", CONF_K_MAX_MEMORY, V_SIZE, R_LIVE, F(max_memory),
	    0, (uint64_t)SIZE_MAX },
	{ "subscriptions_max", CONF_K_SUBSCRIPTIONS_MAX, V_INT, R_LIVE,
	    F(subscriptions_max), 1, 1000000 },
	{ "client_memory_max", CONF_K_CLIENT_MEMORY_MAX, V_SIZE, R_LIVE,
	    F(client_memory_max), 0, (uint64_t)SIZE_MAX },
	{ "max_clients_per_uid", CONF_K_MAX_CLIENTS_PER_UID, V_INT, R_LIVE,
	    F(max_clients_per_uid), 0, 1000000 },
	{ "client_memory_max_per_uid", CONF_K_CLIENT_MEMORY_MAX_PER_UID,
	    V_SIZE, R_LIVE, F(client_memory_max_per_uid), 0,
	    (uint64_t)SIZE_MAX - 1 },
	{ "rule", CONF_K_RULE, V_RULE, R_LIVE, F(rules), 0, 0 },
	{ "token_file", CONF_K_TOKEN_FILE, V_FILE, R_START, F(token_file),
	    0, 0 },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

#undef F

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->socket_mode = 0660;
	c->backlog = 511;
	c->frame_max = 1 * MIB;
	c->output_limit = 8 * MIB;
	c->output_high = 1 * MIB;
	c->output_timeout_ms = 10000;
	c->max_clients = 0;
	c->frame_timeout_ms = 10000;
	c->idle_timeout_ms = 0;
	c->shutdown_timeout_ms = 5000;
	c->reqs_per_wakeup = 32;
	c->accepts_per_wakeup = 16;
	c->key_max = 1 * KIB;
	c->value_max = 512 * KIB;
	c->max_memory = 256 * MIB;
	c->subscriptions_max = 1024;
	c->client_memory_max = 512 * MIB;
	c->max_clients_per_uid = CONF_AUTO;
	c->client_memory_max_per_uid = CONF_AUTO_SIZE;
}

const char *
conf_key_name(int key)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].key == key)
			return keys[i].name;
	}
	return NULL;
}

/* Find a key by name; '-' matches '_' so "frame-max" works too. */
static const struct key *
key_lookup(const char *name)
{
	const char	*a, *b;
	size_t		 i;

	for (i = 0; i < NKEYS; i++) {
		for (a = keys[i].name, b = name; *a != '\0'; a++, b++) {
			if (*a != *b && !(*a == '_' && *b == '-'))
				break;
		}
		if (*a == '\0' && *b == '\0')
			return &keys[i];
	}
	return NULL;
}

/* Decimal digits only (no sign, no space), no overflow. */
static int
parse_u64(const char *s, uint64_t *v, const char **end)
{
	unsigned long long	 n;
	char			*e;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*v = n;
	*end = e;
	return 0;
}

int
conf_parse_mode(const char *s, mode_t *mode)
{
	unsigned int	 m = 0;
	size_t		 n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '7' || n >= 4)
			return -EINVAL;
		m = m * 8 + (unsigned int)(s[n] - '0');
	}
	if (n == 0)
		return -EINVAL;
	if (m > 0777)
		return -ERANGE;
	*mode = (mode_t)m;
	return 0;
}

int
conf_parse_size(const char *s, uint64_t *size)
{
	const char	*end;
	uint64_t	 n;
	unsigned int	 shift;
	int		 r;

	if ((r = parse_u64(s, &n, &end)) != 0)
		return r;
	switch (*end) {
	case '\0':
		shift = 0;
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift > 0 && end[1] != '\0')
		return -EINVAL;
	if (n > (UINT64_MAX >> shift))
		return -ERANGE;
	*size = n << shift;
	return 0;
}

int
conf_parse_ms(const char *s, uint32_t *ms)
{
	uint64_t	 ip = 0, frac = 0, scale = 1, unit, total;
	const char	*p = s;
	int		 nd = 0;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		ip = ip * 10 + (uint64_t)(*p - '0');
		if (ip > UINT32_MAX)
			return -ERANGE;
	}
	if (*p == '.') {
		/* At most 9 digits keep frac * unit inside 64 bits. */
		for (p++; isdigit((unsigned char)*p); p++) {
			if (++nd > 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
		if (nd == 0)
			return -EINVAL;
	}
	if (strcmp(p, "") == 0 || strcmp(p, "s") == 0)
		unit = 1000;
	else if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "m") == 0)
		unit = 60000;
	else
		return -EINVAL;
	/* Round a fraction to the nearest millisecond. */
	total = ip * unit + (frac * unit + scale / 2) / scale;
	if (total > UINT32_MAX)
		return -ERANGE;
	if (total == 0 && (ip != 0 || frac != 0))
		return -ERANGE;
	*ms = (uint32_t)total;
	return 0;
}

/* "4K", "64M", "1234": the shortest exact spelling of a size. */
static void
fmt_size(char *buf, size_t len, uint64_t v)
{
	if (v != 0 && v % GIB == 0)
		snprintf(buf, len, "%" PRIu64 "G", v / GIB);
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, len, "%" PRIu64 "M", v / MIB);
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, len, "%" PRIu64 "K", v / KIB);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

static void
fmt_ms(char *buf, size_t len, uint64_t v)
{
	if (v % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", v / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "ms", v);
}

/* "ADDR:PORT" or "[ADDR]:PORT"; the address itself is listen_tcp()'s. */
static int
tcp_syntax_ok(const char *s)
{
	const char	*colon, *p;
	size_t		 len = strlen(s);
	unsigned long	 port = 0;

	if (len == 0 || len >= sizeof(((struct conf *)0)->tcp[0]))
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (isspace((unsigned char)*p))
			return 0;
	}
	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL || p == s + 1 || p[1] != ':')
			return 0;
		colon = p + 1;
	} else {
		colon = strchr(s, ':');
		if (colon == NULL || colon == s || strchr(colon + 1, ':'))
			return 0;
	}
	for (p = colon + 1; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || p - colon > 5)
			return 0;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return p > colon + 1 && port <= 65535;
}

static int
parse_bool(const char *s, bool *b)
{
	static const char *const	 yes[] = { "yes", "true", "on", "1" };
	static const char *const	 no[] = { "no", "false", "off", "0" };
	size_t				 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int
name_ok(const char *s, size_t size)
{
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++) {
		if (!islower((unsigned char)s[n]) &&
		    !isdigit((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
			return 0;
	}
	return n > 0 && n < size;
}

/*
 * Append a rule line, checked now (policy_check_rule() resolves its
 * names), so that an error names the file's line.
 */
static int
rule_add(struct conf *c, const char *v, char *msg, size_t msglen)
{
	char	why[256];
	size_t	len = strlen(c->rules), n = strlen(v);

	if (policy_check_rule(v, why, sizeof(why)) < 0) {
		seterr(msg, msglen, "bad rule: %s", why);
		return -EINVAL;
	}
	if (c->nrules >= CONF_RULES_MAX ||
	    len + (len > 0) + n > CONF_RULES_TEXT) {
		seterr(msg, msglen, "too many rules (at most %d, %u bytes)",
		    CONF_RULES_MAX, CONF_RULES_TEXT);
		return -EINVAL;
	}
	if (len > 0)
		c->rules[len++] = '\n';
	memcpy(c->rules + len, v, n + 1);
	c->nrules++;
	return 0;
}

/*
 * Parse 'v' for key 'k' and store it into 'c'. On error 'c' is not
 * touched and 'msg' holds "bad value for 'key': ...".
 */
static int
key_set(struct conf *c, const struct key *k, const char *v, char *msg,
    size_t msglen)
{
	char		*field = (char *)c + k->off;
	char		 lo[32], hi[32];
	const char	*why, *end;
	uint64_t	 n = 0;
	uint32_t	 ms;
	mode_t		 mode;
	bool		 b;
	int		 r;

	switch (k->type) {
	case V_PATH:
		if (strlen(v) >= k->size) {
			why = "socket path too long (max 107 bytes)";
			goto bad;
		}
		memset(field, 0, k->size);
		memcpy(field, v, strlen(v));
		return 0;
	case V_FILE:
		if (strlen(v) >= k->size || v[0] != '/') {
			why = "must be an absolute path of at most 255 bytes";
			goto bad;
		}
		memset(field, 0, k->size);
		memcpy(field, v, strlen(v));
		return 0;
	case V_RULE:
		return rule_add(c, v, msg, msglen);
	case V_MODE:
		if ((r = conf_parse_mode(v, &mode)) != 0) {
			why = r == -ERANGE ? "must be at most 0777" :
			    "not an octal mode like 0660";
			goto bad;
		}
		memcpy(field, &mode, sizeof(mode));
		return 0;
	case V_TCP:
		if (!tcp_syntax_ok(v)) {
			why = "expected ADDR:PORT or [ADDR]:PORT";
			goto bad;
		}
		if (c->ntcp >= CONF_TCP_MAX) {
			why = "too many tcp listeners (max 4)";
			goto bad;
		}
		memset(c->tcp[c->ntcp], 0, sizeof(c->tcp[0]));
		memcpy(c->tcp[c->ntcp], v, strlen(v));
		c->ntcp++;
		return 0;
	case V_BOOL:
		if (parse_bool(v, &b) != 0) {
			why = "must be yes, no, true, false, on, off, 1 or 0";
			goto bad;
		}
		memcpy(field, &b, sizeof(b));
		return 0;
	case V_NAME:
		if (!name_ok(v, k->size)) {
			why = "expected a backend name such as epoll, poll "
			    "or select";
			goto bad;
		}
		memset(field, 0, k->size);
		memcpy(field, v, strlen(v));
		return 0;
	case V_INT:
		r = parse_u64(v, &n, &end);
		if (r == 0 && *end != '\0')
			r = -EINVAL;
		if (r == -EINVAL) {
			why = "not a number";
			goto bad;
		}
		if (r != 0 || n < k->min || n > k->max)
			goto range;
		r = (int)n;
		memcpy(field, &r, sizeof(r));
		return 0;
	case V_SIZE32:
	case V_SIZE:
		r = conf_parse_size(v, &n);
		if (r == -EINVAL) {
			why = "not a size; use bytes with an optional K, M or "
			    "G suffix";
			goto bad;
		}
		if (r != 0 || n < k->min || n > k->max)
			goto range;
		if (k->type == V_SIZE32) {
			ms = (uint32_t)n;
			memcpy(field, &ms, sizeof(ms));
		} else {
			size_t	 sz = (size_t)n;

			memcpy(field, &sz, sizeof(sz));
		}
		return 0;
	case V_MS:
		r = conf_parse_ms(v, &ms);
		if (r == -EINVAL) {
			why = "not a time; use seconds like 1.5 or a unit: "
			    "250ms, 10s, 2m";
			goto bad;
		}
		if (r != 0 || ms < k->min || ms > k->max)
			goto range;
		memcpy(field, &ms, sizeof(ms));
		return 0;
	}
	why = "unsupported";
	goto bad;

range:
	switch (k->type) {
	case V_SIZE32:
	case V_SIZE:
		fmt_size(lo, sizeof(lo), k->min);
		fmt_size(hi, sizeof(hi), k->max);
		break;
	case V_MS:
		fmt_ms(lo, sizeof(lo), k->min);
		fmt_ms(hi, sizeof(hi), k->max);
		break;
	default:
		snprintf(lo, sizeof(lo), "%" PRIu64, k->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, k->max);
		break;
	}
	seterr(msg, msglen, "bad value for '%s': '%.64s' (must be between "
	    "%s and %s)", k->name, v, lo, hi);
	return -EINVAL;
bad:
	seterr(msg, msglen, "bad value for '%s': '%.64s' (%s)", k->name, v,
	    why);
	return -EINVAL;
}

/* Copy one key's setting from 'src' to 'dst'. */
static void
key_copy(struct conf *dst, const struct conf *src, const struct key *k)
{
	if (k->type == V_TCP) {
		memcpy(dst->tcp, src->tcp, sizeof(dst->tcp));
		dst->ntcp = src->ntcp;
		return;
	}
	if (k->type == V_RULE) {
		memcpy(dst->rules, src->rules, sizeof(dst->rules));
		dst->nrules = src->nrules;
		return;
	}
	memcpy((char *)dst + k->off, (const char *)src + k->off, k->size);
}

static int
key_equal(const struct conf *a, const struct conf *b, const struct key *k)
{
	int	 i;

	switch (k->type) {
	case V_TCP:
		if (a->ntcp != b->ntcp)
			return 0;
		for (i = 0; i < a->ntcp; i++) {
			if (strcmp(a->tcp[i], b->tcp[i]) != 0)
				return 0;
		}
		return 1;
	case V_PATH:
	case V_FILE:
	case V_RULE:
	case V_NAME:
		return strcmp((const char *)a + k->off,
		    (const char *)b + k->off) == 0;
	default:
		return memcmp((const char *)a + k->off,
		    (const char *)b + k->off, k->size) == 0;
	}
}

/* Is the key left to follow another (CONF_AUTO), so out of its range? */
static bool
key_auto(const struct conf *c, const struct key *k)
{
	switch (k->key) {
	case CONF_K_MAX_CLIENTS_PER_UID:
		return c->max_clients_per_uid == CONF_AUTO;
	case CONF_K_CLIENT_MEMORY_MAX_PER_UID:
		return c->client_memory_max_per_uid == CONF_AUTO_SIZE;
	default:
		return false;
	}
}

/* A numeric field's current value, to re-check ranges in conf_check(). */
static uint64_t
key_number(const struct conf *c, const struct key *k)
{
	const char	*field = (const char *)c + k->off;
	uint32_t	 u32;
	size_t		 sz;
	mode_t		 mode;
	int		 i;

	switch (k->type) {
	case V_MODE:
		memcpy(&mode, field, sizeof(mode));
		return mode;
	case V_INT:
		memcpy(&i, field, sizeof(i));
		return i < 0 ? UINT64_MAX : (uint64_t)i;
	case V_SIZE32:
	case V_MS:
		memcpy(&u32, field, sizeof(u32));
		return u32;
	case V_SIZE:
		memcpy(&sz, field, sizeof(sz));
		return sz;
	default:
		return 0;
	}
}

int
conf_check(struct conf *c, char *errbuf, size_t errlen)
{
	uint64_t	 v, vmax, need;
	size_t		 i;

	/* Fields may also have been set directly: check every range. */
	for (i = 0; i < NKEYS; i++) {
		switch (keys[i].type) {
		case V_MODE:
		case V_INT:
		case V_SIZE32:
		case V_SIZE:
		case V_MS:
			v = key_number(c, &keys[i]);
			if (!key_auto(c, &keys[i]) &&
			    (v < keys[i].min || v > keys[i].max)) {
				seterr(errbuf, errlen, "%s is out of range",
				    keys[i].name);
				return -EINVAL;
			}
			break;
		default:
			break;
		}
	}
	if (c->ntcp < 0 || c->ntcp > CONF_TCP_MAX) {
		seterr(errbuf, errlen, "tcp: bad listener count");
		return -EINVAL;
	}
	/*
	 * The rules below join only R_LIVE keys, so a reload's mix of new
	 * and kept values (conf_apply()) still obeys them.
	 *
	 * The largest frame that carries a value, a message pushed for a
	 * pattern (the value, the channel and the pattern), must fit the
	 * output limit: else a queue item that large could be popped and
	 * never sent, or every subscriber would be dropped by its messages.
	 * frame_max bounds a value too.
	 */
	vmax = c->value_max;
	if (vmax > c->frame_max - IOMUX_BODY_HDR_SIZE - IOMUX_ARG_HDR_SIZE)
		vmax = c->frame_max - IOMUX_BODY_HDR_SIZE - IOMUX_ARG_HDR_SIZE;
	need = (uint64_t)IOMUX_LEN_SIZE + IOMUX_BODY_HDR_SIZE +
	    3 * IOMUX_ARG_HDR_SIZE + 2 * (uint64_t)c->key_max + 1 + vmax;
	if (need > c->output_limit) {
		seterr(errbuf, errlen, "value_max (%lu) and key_max (%lu) "
		    "need replies of up to %llu bytes, over output_limit "
		    "(%llu): lower value_max or raise output_limit",
		    (unsigned long)c->value_max, (unsigned long)c->key_max,
		    (unsigned long long)need,
		    (unsigned long long)c->output_limit);
		return -EINVAL;
	}
	/* Back-pressure must start no later than the hard limit. */
	if (c->output_high > c->output_limit)
		c->output_high = c->output_limit;
	return 0;
}

int
conf_set_key(struct conf *c, const char *key, const char *value,
    struct conf_set *set, char *errbuf, size_t errlen)
{
	const struct key	*k;
	int			 r;

	if ((k = key_lookup(key)) == NULL) {
		seterr(errbuf, errlen, "unknown key '%.64s'", key);
		return -EINVAL;
	}
	if ((r = key_set(c, k, value, errbuf, errlen)) != 0)
		return r;
	if (set != NULL)
		set->mask |= CONF_KEY_BIT(k->key);
	return 0;
}

/*
 * Read one line without its newline into buf (CONF_LINE_MAX + 1 bytes).
 * 1 = a line, 0 = end of file, -E2BIG = line too long, -EILSEQ = NUL
 * byte, -errno on a read error.
 */
static int
read_line(FILE *fp, char *buf)
{
	size_t	 len = 0;
	int	 ch;

	while ((ch = getc(fp)) != EOF) {
		if (ch == '\n')
			break;
		if (ch == '\0')
			return -EILSEQ;
		if (len >= CONF_LINE_MAX)
			return -E2BIG;
		buf[len++] = (char)ch;
	}
	if (ch == EOF) {
		if (ferror(fp))
			return errno != 0 ? -errno : -EIO;
		if (len == 0)
			return 0;
	}
	buf[len] = '\0';
	return 1;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Strip double quotes in place: "a \"b\" \\ c" -> a "b" \ c. Only \" and
 * \\ are escapes. Returns NULL with *why set on a malformed value.
 */
static char *
unquote(char *v, const char **why)
{
	char	*r, *w;

	if (*v != '"')
		return v;
	for (r = v + 1, w = v; *r != '"'; r++) {
		if (*r == '\0') {
			*why = "unterminated quote";
			return NULL;
		}
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	if (r[1] != '\0') {
		*why = "text after the closing quote";
		return NULL;
	}
	*w = '\0';
	return v;
}

int
conf_load(struct conf *c, const char *path, const struct conf_set *locked,
    char *errbuf, size_t errlen)
{
	struct conf		 tmp, scratch;
	const struct key	*k;
	FILE			*fp;
	char			 buf[CONF_LINE_MAX + 1], msg[256];
	char			*line, *key, *value, *eq;
	const char		*why;
	uint64_t		 lock = locked != NULL ? locked->mask : 0;
	unsigned long		 lineno = 0;
	size_t			 i;
	int			 r;

	if ((fp = fopen(path, "re")) == NULL) {
		r = -errno;
		seterr(errbuf, errlen, "%s: %s", path, strerror(-r));
		return r;
	}

	/* Defaults, then what the command line set, then the file. */
	conf_defaults(&tmp);
	tmp.foreground = c->foreground;
	for (i = 0; i < NKEYS; i++) {
		if (lock & CONF_KEY_BIT(keys[i].key))
			key_copy(&tmp, c, &keys[i]);
	}
	/* Locked keys in the file are still validated, into here. */
	conf_defaults(&scratch);

	for (;;) {
		lineno++;
		if ((r = read_line(fp, buf)) == 0)
			break;
		if (r == -E2BIG) {
			seterr(errbuf, errlen, "%s:%lu: line too long "
			    "(max %d bytes)", path, lineno, CONF_LINE_MAX);
			r = -EINVAL;
			goto out;
		}
		if (r == -EILSEQ) {
			seterr(errbuf, errlen, "%s:%lu: NUL byte in line",
			    path, lineno);
			r = -EINVAL;
			goto out;
		}
		if (r < 0) {
			seterr(errbuf, errlen, "%s: read: %s", path,
			    strerror(-r));
			goto out;
		}

		line = trim(buf);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL || eq == line) {
			seterr(errbuf, errlen, "%s:%lu: expected "
			    "'key = value'", path, lineno);
			r = -EINVAL;
			goto out;
		}
		*eq = '\0';
		key = trim(line);
		if ((value = unquote(trim(eq + 1), &why)) == NULL) {
			seterr(errbuf, errlen, "%s:%lu: %s", path, lineno,
			    why);
			r = -EINVAL;
			goto out;
		}
		if ((k = key_lookup(key)) == NULL) {
			seterr(errbuf, errlen, "%s:%lu: unknown key '%.64s'",
			    path, lineno, key);
			r = -EINVAL;
			goto out;
		}
		r = key_set((lock & CONF_KEY_BIT(k->key)) ? &scratch : &tmp,
		    k, value, msg, sizeof(msg));
		if (r != 0) {
			seterr(errbuf, errlen, "%s:%lu: %s", path, lineno,
			    msg);
			goto out;
		}
	}

	if ((r = conf_check(&tmp, msg, sizeof(msg))) != 0) {
		seterr(errbuf, errlen, "%s: %s", path, msg);
		goto out;
	}
	*c = tmp;
	r = 0;
out:
	fclose(fp);
	return r;
}

/* A lower-only key's value for comparison: 0 is no limit, above all. */
static uint64_t
key_limit(const struct conf *c, const struct key *k)
{
	uint64_t	 v = key_number(c, k);

	return v == 0 ? UINT64_MAX : v;
}

void
conf_apply(struct conf *c, const struct conf *nc, struct conf_set *later)
{
	const struct key	*k;
	size_t			 i;

	later->mask = 0;
	for (i = 0; i < NKEYS; i++) {
		k = &keys[i];
		if (key_equal(c, nc, k))
			continue;
		if (k->reload == R_START || (k->reload == R_LOWER &&
		    key_limit(nc, k) > key_limit(c, k)))
			later->mask |= CONF_KEY_BIT(k->key);
		else
			key_copy(c, nc, k);
	}
}

int
conf_set_names(const struct conf_set *s, char *buf, size_t len)
{
	size_t	 i, off = 0;
	int	 n = 0, w;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < NKEYS; i++) {
		if (!(s->mask & CONF_KEY_BIT(keys[i].key)))
			continue;
		/* Past the end once cut: only count from then on. */
		if (off < len) {
			w = snprintf(buf + off, len - off, "%s%s",
			    n > 0 ? ", " : "", keys[i].name);
			off += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}
