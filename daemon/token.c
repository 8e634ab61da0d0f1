/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * token.c: the TCP token: made from getrandom(2), written so that no
 * reader ever sees a partial or wider-readable file (a private temporary
 * file, fchmod, rename), compared without a data-dependent branch.
 */

#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "token.h"

int
token_default_path(char *buf, size_t len)
{
	const char	*rt = getenv("RUNTIME_DIRECTORY");
	char		*slash;
	int		 ret, n;

	/* systemd's RuntimeDirectory= (the first, if several) comes first. */
	if (rt != NULL && rt[0] == '/') {
		n = snprintf(buf, len, "%.*s/token", (int)strcspn(rt, ":"), rt);
		return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
	}
	if ((ret = listen_default_path(buf, len)) != 0)
		return ret;
	if ((slash = strrchr(buf, '/')) == NULL)
		return -ENOENT;
	n = snprintf(slash + 1, len - (size_t)(slash + 1 - buf), "tcp/token");
	return n < 0 || (size_t)n >= len - (size_t)(slash + 1 - buf) ?
	    -ENAMETOOLONG : 0;
}

static int
random_hex(char *hex)
{
	static const char	digits[] = "0123456789abcdef";
	unsigned char		raw[TOKEN_BYTES];
	size_t			off = 0;
	ssize_t			n;
	int			i;

	while (off < sizeof(raw)) {
		n = getrandom(raw + off, sizeof(raw) - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	for (i = 0; i < TOKEN_BYTES; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 0xf];
	}
	hex[TOKEN_HEX] = '\0';
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

/* Write all of buf to fd: 0 or -errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The default token directory, DIR/tcp beside the socket: DIR as the
 * socket's (0755), tcp 0750, so that only the daemon's group may look in.
 */
static int
token_mkdirs(const char *dir)
{
	char	parent[256], *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) == 0)
			(void)chmod(parent, 0755);
		else if (errno != EEXIST)
			return -errno;
	}
	if (mkdir(dir, TOKEN_DIR_MODE) == 0) {
		if (chmod(dir, TOKEN_DIR_MODE) < 0)
			return -errno;
	} else if (errno != EEXIST)
		return -errno;
	return 0;
}

int
token_create(struct token *t, const char *path, bool is_default, char *err,
    size_t errlen)
{
	char		 tmp[sizeof(t->path) + 8], line[TOKEN_HEX + 1];
	char		 dir[sizeof(t->path)], *slash;
	struct stat	 st;
	int		 fd, ret;

	memset(t, 0, sizeof(*t));
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
	    strlen(path) >= sizeof(t->path)) {
		snprintf(err, errlen, "token file %s: path too long", path);
		return -ENAMETOOLONG;
	}
	if ((ret = random_hex(t->hex)) < 0) {
		snprintf(err, errlen, "token: getrandom: %s", strerror(-ret));
		return ret;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		snprintf(err, errlen, "token file %s: not in a directory of its "
		    "own", path);
		return -EINVAL;
	}
	*slash = '\0';
	/* The default directories are ours to make, as the socket's are. */
	if (is_default && (ret = token_mkdirs(dir)) < 0) {
		snprintf(err, errlen, "token directory %s: %s", dir,
		    strerror(-ret));
		goto fail;
	}
	/* Others could swap the file under its readers. */
	if (lstat(dir, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "token directory %s: %s", dir,
		    strerror(-ret));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode) ||
	    ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))) {
		ret = -EPERM;
		snprintf(err, errlen, "token directory %s: not a directory, or "
		    "writable by anyone", dir);
		goto fail;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "token file %s: %s", path,
		    strerror(-ret));
		goto fail;
	}
	memcpy(line, t->hex, TOKEN_HEX);
	line[TOKEN_HEX] = '\n';
	/*
	 * Our own group, not the directory's (a setgid directory would give
	 * the file to its group's members). Only when it differs: the unit's
	 * seccomp filter refuses chown(2) calls, even those that change
	 * nothing.
	 */
	if (fstat(fd, &st) < 0 || (st.st_gid != getegid() &&
	    fchown(fd, (uid_t)-1, getegid()) < 0) ||
	    fchmod(fd, TOKEN_MODE) < 0 || fstat(fd, &st) < 0)
		ret = -errno;
	else
		ret = write_all(fd, line, sizeof(line));
	if (ret < 0) {
		snprintf(err, errlen, "token file %s: %s", tmp,
		    strerror(-ret));
		close(fd);
		(void)unlink(tmp);
		goto fail;
	}
	explicit_bzero(line, sizeof(line));
	close(fd);
	if (rename(tmp, path) < 0) {
		ret = -errno;
		snprintf(err, errlen, "token file %s: %s", path,
		    strerror(-ret));
		(void)unlink(tmp);
		goto fail;
	}
	memcpy(t->path, path, strlen(path) + 1);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->set = true;
	return 0;
fail:
	explicit_bzero(t, sizeof(*t));
	return ret;
}

bool
token_check(const struct token *t, const void *p, size_t len)
{
	const unsigned char	*a = p, *b = (const unsigned char *)t->hex;
	unsigned char		 diff = 0;
	size_t			 i;

	/* The length is no secret: every token has TOKEN_HEX characters. */
	if (!t->set || len != TOKEN_HEX)
		return false;
	for (i = 0; i < TOKEN_HEX; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

void
token_remove(struct token *t)
{
	struct stat	st;

	if (t->path[0] != '\0' && lstat(t->path, &st) == 0 &&
	    st.st_dev == t->dev && st.st_ino == t->ino)
		(void)unlink(t->path);
	explicit_bzero(t, sizeof(*t));
}
