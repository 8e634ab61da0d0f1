/* SPDX-License-Identifier: ISC */
/*
 * Copyright (c) 2026 The iomuxd developers
 *
 * replay.c: run a libFuzzer target's LLVMFuzzerTestOneInput() over files,
 * without libFuzzer, so that make check replays the committed corpus with
 * any compiler (and under the sanitizers of an --enable-sanitizers build).
 *
 *	replay_request [FILE | DIR]...
 *
 * With no arguments it reads $top_srcdir/REPLAY_CORPUS (the Makefile
 * defines the directory and the test environment sets top_srcdir). Files
 * of a directory run in name order, each in a forked child, so that a
 * crash or a sanitizer report fails that file only and names it; the
 * child exits normally after one input so that LeakSanitizer checks it.
 *
 * Output is TAP, one test per file. A file named crash-* reproduces a
 * bug the fuzzer found, and is kept once the bug is fixed as its
 * regression test: it must pass like every other seed. A bug is fixed
 * with its crash-* file, never committed ahead of the fix.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional in a target, as with libFuzzer. */
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static int	ntests, nfailed;

/* Read all of path; 0 or -errno. */
static int
slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE	*fp;
	uint8_t	*p = NULL, *np;
	size_t	 cap = 0, n = 0, got;
	int	 err = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			if ((np = realloc(p, cap)) == NULL) {
				err = -ENOMEM;
				break;
			}
			p = np;
		}
		got = fread(p + n, 1, cap - n, fp);
		n += got;
		if (got == 0) {
			if (ferror(fp))
				err = -EIO;
			break;
		}
	}
	fclose(fp);
	if (err < 0) {
		free(p);
		return err;
	}
	*out = p;
	*len = n;
	return 0;
}

/* One input in a child; its exit status or signal decides the test. */
static void
replay_one(const char *path, const char *name)
{
	uint8_t	*data = NULL;
	size_t	 len = 0;
	pid_t	 pid;
	int	 status, err;

	ntests++;
	fflush(stdout);
	if ((pid = fork()) == -1) {
		printf("not ok %d - %s: fork: %s\n", ntests, name,
		    strerror(errno));
		nfailed++;
		return;
	}
	if (pid == 0) {
		if ((err = slurp(path, &data, &len)) < 0) {
			fprintf(stderr, "replay: %s: %s\n", path,
			    strerror(-err));
			_exit(2);
		}
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
		(void)LLVMFuzzerTestOneInput(data, len);
		free(data);
		exit(0);	/* not _exit: LeakSanitizer runs at exit */
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s\n", ntests, name);
		return;
	}
	if (WIFSIGNALED(status))
		printf("not ok %d - %s: signal %d\n", ntests, name,
		    WTERMSIG(status));
	else
		printf("not ok %d - %s: exit %d\n", ntests, name,
		    WEXITSTATUS(status));
	nfailed++;
}

static int
is_input(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every regular file of dir, in name order. */
static int
replay_dir(const char *dir)
{
	struct dirent	**names;
	struct stat	  st;
	char		  path[4096];
	int		  n, i;

	if ((n = scandir(dir, &names, is_input, alphasort)) == -1) {
		printf("Bail out! %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			replay_one(path, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return 0;
}

int
main(int argc, char **argv)
{
	struct stat	 st;
	const char	*top;
	char		 dflt[4096];
	int		 i;

	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		top = getenv("top_srcdir");
		snprintf(dflt, sizeof(dflt), "%s/%s", top != NULL ? top : ".",
		    REPLAY_CORPUS);
		if (replay_dir(dflt) < 0)
			return 1;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) < 0)
				return 1;
		} else
			replay_one(argv[i], argv[i]);
	}
	printf("1..%d\n", ntests);
	return nfailed > 0 ? 1 : 0;
}
