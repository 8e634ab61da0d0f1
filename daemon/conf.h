/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * conf.h: daemon settings from defaults, the config file (iomuxd.conf(5))
 * and the command line, in that order of precedence (flags win).
 */

#ifndef IOMUXD_CONF_H
#define IOMUXD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONF_PATH_MAX	108	/* sun_path */
#define CONF_TCP_MAX	4
#define CONF_LINE_MAX	1024	/* config file line, newline excluded */
#define CONF_FILE_MAX	256	/* other paths (token_file), NUL included */
/* The access rules, one per line (policy.h has the same limits). */
#define CONF_RULES_MAX	128
#define CONF_RULES_TEXT	(16u << 10)

/* The config keys, one bit each in struct conf_set. */
enum conf_key {
	CONF_K_SOCKET,
	CONF_K_SOCKET_MODE,
	CONF_K_TCP,
	CONF_K_TCP_ALLOW_REMOTE,
	CONF_K_BACKEND,
	CONF_K_BACKLOG,
	CONF_K_FRAME_MAX,
	CONF_K_OUTPUT_LIMIT,
	CONF_K_OUTPUT_HIGH,
	CONF_K_MAX_CLIENTS,
	CONF_K_FRAME_TIMEOUT,
	CONF_K_IDLE_TIMEOUT,
	CONF_K_SHUTDOWN_TIMEOUT,
	CONF_K_REQS_PER_WAKEUP,
	CONF_K_ACCEPTS_PER_WAKEUP,
	CONF_K_VERBOSE,
	CONF_K_OUTPUT_TIMEOUT,
	CONF_K_KEY_MAX,
	CONF_K_VALUE_MAX,
	CONF_K_MAX_MEMORY,
	CONF_K_SUBSCRIPTIONS_MAX,
	CONF_K_CLIENT_MEMORY_MAX,
	CONF_K_MAX_CLIENTS_PER_UID,
	CONF_K_CLIENT_MEMORY_MAX_PER_UID,
	CONF_K_RULE,
	CONF_K_TOKEN_FILE,
	CONF_K_COUNT
};
#define CONF_KEY_BIT(k)	(UINT64_C(1) << (k))

struct conf {
	char	 socket_path[CONF_PATH_MAX];	/* "" = default for this uid */
	mode_t	 socket_mode;			/* 0660 */
	char	 tcp[CONF_TCP_MAX][64];		/* "ADDR:PORT" listeners */
	int	 ntcp;
	bool	 tcp_allow_remote;		/* non-loopback TCP allowed */
	char	 backend[16];			/* "" = best available */
	int	 backlog;			/* 511 */
	uint32_t frame_max;			/* 1 MiB */
	size_t	 output_limit;			/* 8 MiB per client */
	size_t	 output_high;			/* stop reading above: 1 MiB */
	uint32_t output_timeout_ms;		/* over output_high this long:
						   drop the client; 10000 */
	int	 max_clients;			/* 0 = from RLIMIT_NOFILE */
	uint32_t frame_timeout_ms;		/* 10000 */
	uint32_t idle_timeout_ms;		/* 0 = off */
	uint32_t shutdown_timeout_ms;		/* 5000: flush on SIGTERM */
	int	 reqs_per_wakeup;		/* 32 */
	int	 accepts_per_wakeup;		/* 16 */
	int	 verbose;
	bool	 foreground;

	/* The hub's data (iomuxd.conf(5)). */
	uint32_t key_max;			/* 1024: keys and names */
	uint32_t value_max;			/* 512 KiB */
	size_t	 max_memory;			/* 256 MiB; 0 = no limit */
	int	 subscriptions_max;		/* 1024 per connection */
	size_t	 client_memory_max;		/* 512 MiB, all connections'
						   buffers and state; 0 = off */

	/* Per-uid quotas; root is exempt, TCP is one user (server.c). */
	int	 max_clients_per_uid;		/* CONF_AUTO: max_clients / 4;
						   0 = no limit */
	size_t	 client_memory_max_per_uid;	/* CONF_AUTO_SIZE: half of
						   client_memory_max; 0 = no
						   limit */

	/*
	 * Who may do what (policy.h): the rule lines in file order, joined
	 * by newlines; "" = the default rules.
	 */
	char	 rules[CONF_RULES_TEXT + 1];
	int	 nrules;
	/* The TCP token's file; "" = "token" beside the default socket. */
	char	 token_file[CONF_FILE_MAX];
};

/*
 * "Not set": the value follows another key as it runs (the server reads
 * it through server_max_clients_per_uid() and the like). Never written in
 * a file: the keys' ranges leave these values out.
 */
#define CONF_AUTO	(-1)
#define CONF_AUTO_SIZE	SIZE_MAX

/* Which settings the command line set, so a reload keeps them. */
struct conf_set {
	uint64_t	mask;	/* one bit per CONF_K_* key */
};

/* Fill with compiled-in defaults. */
void	conf_defaults(struct conf *);

/*
 * Read 'path' (key = value lines, '#' comments; see iomuxd.conf(5)) into
 * 'c', skipping keys present in 'locked' (set on the command line).
 * Returns 0, -ENOENT if the file does not exist (callers decide whether
 * that is fine), -EINVAL on a syntax or value error with a message
 * "path:line: what" in errbuf, or -errno.
 *
 * The result is built from scratch: compiled-in defaults, then the
 * values of the 'locked' keys and 'foreground' taken from *c, then the
 * file (locked keys in the file are validated but not applied), then
 * conf_check(). So a key removed from the file goes back to its default
 * on reload, and anything the command line sets must go through
 * conf_set_key() with 'set' so that it is locked. *c is replaced only
 * when all of this succeeds; on any error it is left untouched.
 */
int	conf_load(struct conf *c, const char *path, const struct conf_set *locked,
	    char *errbuf, size_t errlen);

/*
 * A reload: apply the newly read settings 'nc' (conf_load() built and
 * checked them) to the running ones 'c', key by key, as each key's row
 * in conf.c's table says. Live keys are copied; keys read only at start
 * keep their running value; lower-only keys (max_clients) are copied
 * when lower and kept when higher, 0 counting as no limit. *later is
 * set to the keys whose new value waits for the next start (the last
 * two kinds), so the caller can name them. Fields that are no key
 * (foreground) are left alone. The result needs no conf_check(): its
 * rules only join keys that reload alike.
 */
void	conf_apply(struct conf *c, const struct conf *nc,
	    struct conf_set *later);

/*
 * Write the names of the keys in 's' into buf, "socket, backend", in
 * the order of iomuxd.conf(5). Always NUL-terminated when len > 0, cut
 * short if it does not fit. Returns the number of keys named.
 */
int	conf_set_names(const struct conf_set *s, char *buf, size_t len);

/*
 * Cross-key checks and adjustments after the command line (conf_load()
 * calls it itself): output_high above output_limit is lowered to
 * output_limit. 0 or -EINVAL with a message.
 */
int	conf_check(struct conf *c, char *errbuf, size_t errlen);

/* The config-file name of a CONF_K_* key ("frame_max"), or NULL. */
const char	*conf_key_name(int key);

/*
 * Set one setting by its config-file key and text value, as the file
 * and the command line both do. Marks it in 'set' if not NULL. Returns 0 or
 * -EINVAL with a message in errbuf ("unknown key 'x'", "bad value for
 * 'frame_max': ..."). "tcp" appends (at most CONF_TCP_MAX); '-' in a key
 * is read as '_' ("frame-max"). On error *c is unchanged.
 */
int	conf_set_key(struct conf *c, const char *key, const char *value,
	    struct conf_set *set, char *errbuf, size_t errlen);

/*
 * Parse helpers shared with the CLI tests: "0660", "10s", "1.5", "8M".
 * 0, -EINVAL for junk (signs, spaces, empty, bad suffix) or -ERANGE.
 * Mode: 1-4 octal digits, at most 0777. Size: decimal bytes with an
 * optional K, M or G (binary) suffix. Time: decimal seconds with an
 * optional fraction and an optional unit ms, s or m; the result in ms
 * must fit 32 bits, and a non-zero time under 1 ms is -ERANGE.
 */
int	conf_parse_mode(const char *, mode_t *);
int	conf_parse_size(const char *, uint64_t *);	/* K/M/G suffixes */
int	conf_parse_ms(const char *, uint32_t *);	/* "1.5" s, "250ms" */

#endif /* IOMUXD_CONF_H */
