/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * token.h: the secret a TCP client shows in HELLO instead of the peer
 * credentials TCP does not have. A new one at every start, in a file only
 * the daemon's user and group can read, so TCP gives no more than the
 * file's permissions do (iomuxd(8)).
 */

#ifndef IOMUXD_TOKEN_H
#define IOMUXD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TOKEN_BYTES	32
#define TOKEN_HEX	(2 * TOKEN_BYTES)	/* as written and sent */
#define TOKEN_MODE	0640
#define TOKEN_DIR_MODE	0750

struct token {
	bool	 set;
	char	 hex[TOKEN_HEX + 1];
	char	 path[256];		/* the file we wrote, "" if none */
	dev_t	 dev;			/* ... as it was, so that only our */
	ino_t	 ino;			/* own file is removed at stop */
};

/*
 * "token" in systemd's $RUNTIME_DIRECTORY, else "tcp/token" beside the
 * default socket: 0, -ENOENT or -ENAMETOOLONG.
 */
int	token_default_path(char *buf, size_t len);
/*
 * Make a new token and write it to path (hex and a newline, mode 0640,
 * our uid and gid, through a temporary file renamed into place). The
 * default directories are created if missing; another must exist, and
 * not be writable by anyone (unless sticky). 0 or -errno with a sentence.
 */
int	token_create(struct token *, const char *path, bool is_default,
	    char *err, size_t errlen);
/* Is p the token? Constant time in the token's bytes; false if unset. */
bool	token_check(const struct token *, const void *p, size_t len);
/* Remove the file (if it is still the one we wrote) and forget it. */
void	token_remove(struct token *);

#endif /* IOMUXD_TOKEN_H */
