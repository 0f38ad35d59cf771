/* home.c - the client's home folder (see home.h). */
#include "base/home.h"
#include "base/err.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
join(char *out, size_t size, const char *a, const char *b,
    struct report *rep)
{
	if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size) {
		return report_error(rep, E2E_EX_CONFIG,
		    "the client's home path is too long");
	}
	return 0;
}

int
home_find(char *out, size_t size, struct report *rep)
{
	const char *v;
	char base[HOME_PATH_MAX];
	struct passwd *pw;

	/* An empty or relative XDG_CONFIG_HOME is to be ignored (XDG spec). */
	if ((v = getenv("E2E_HOME")) != NULL && v[0] != '\0') {
		if (strlen(v) >= size) {
			return report_error(rep, E2E_EX_CONFIG,
			    "E2E_HOME is too long");
		}
		memcpy(out, v, strlen(v) + 1);
		return 0;
	}
	if ((v = getenv("XDG_CONFIG_HOME")) != NULL && v[0] == '/')
		return join(out, size, v, "e2e", rep);
	if ((v = getenv("HOME")) == NULL || v[0] != '/') {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL ||
		    pw->pw_dir[0] != '/') {
			report_error(rep, E2E_EX_CONFIG,
			    "cannot tell where the client's home is");
			report_hint(rep, "set E2E_HOME to a folder");
			return E2E_EX_CONFIG;
		}
		v = pw->pw_dir;
	}
	if (join(base, sizeof(base), v, ".config", rep) != 0)
		return E2E_EX_CONFIG;
	return join(out, size, base, "e2e", rep);
}

int
home_create(const char *dir, struct report *rep)
{
	char path[HOME_PATH_MAX];
	struct stat st;
	size_t i, n = strlen(dir);

	if (n >= sizeof(path)) {
		return report_error(rep, E2E_EX_CANTCREAT,
		    "the client's home path is too long");
	}
	memcpy(path, dir, n + 1);
	/* Parents first, each 0700 when we make it (as ssh does ~/.ssh). */
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			return report_errno(rep, E2E_EX_CANTCREAT,
			    "cannot create %s", path);
		}
		path[i] = i == n ? '\0' : '/';
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return report_error(rep, E2E_EX_CANTCREAT,
		    "%s is not a folder", dir);
	}
	if (st.st_uid == geteuid() && (st.st_mode & 022) != 0)
		report_warn(rep, "%s can be written by others; chmod 700 it",
		    dir);
	return 0;
}

int
home_file(const char *dir, const char *name, char *out, size_t size,
    struct report *rep)
{
	return join(out, size, dir, name, rep);
}
