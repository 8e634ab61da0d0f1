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
};

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
 */
int	conf_load(struct conf *c, const char *path, const struct conf_set *locked,
	    char *errbuf, size_t errlen);

/*
 * Set one setting by its config-file key and text value, as the file
 * and the command line both do. Marks it in 'set' if not NULL. Returns 0 or
 * -EINVAL with a message in errbuf.
 */
int	conf_set_key(struct conf *c, const char *key, const char *value,
	    struct conf_set *set, char *errbuf, size_t errlen);

/* Parse helpers shared with the CLI tests: "0660", "10s", "1.5", "8M". */
int	conf_parse_mode(const char *, mode_t *);
int	conf_parse_size(const char *, uint64_t *);	/* K/M/G suffixes */
int	conf_parse_ms(const char *, uint32_t *);	/* "1.5" s, "250ms" */

#endif /* IOMUXD_CONF_H */
