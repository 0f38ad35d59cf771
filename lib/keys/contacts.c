/* contacts.c - recipients and signers by name (see contacts.h). */
#include "keys/contacts.h"
#include "base/cli.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/home.h"
#include "format/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* e2e-keys beside this program (the same installation), else PATH. */
static void
keys_program(char *out, size_t size)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	snprintf(out, size, "e2e-keys");
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	if ((size_t)snprintf(out, size, "%s/e2e-keys", self) >= size ||
	    access(out, X_OK) != 0)
		snprintf(out, size, "e2e-keys");
}

/*
 * Runs e2e-keys with argv (argv[0] filled here), its stdin /dev/null and
 * its stdout /dev/null, or, with out, a pipe read into out (at most max
 * bytes; more is cut). Returns its exit status, -1 when it cannot be
 * run.
 */
static int
run_keys(char **argv, struct buf *out, size_t max)
{
	char prog[PATH_MAX], chunk[4096];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	ssize_t n;
	int st, rc, fd[2] = { -1, -1 };

	keys_program(prog, sizeof(prog));
	argv[0] = prog;
	if ((out != NULL && pipe2(fd, O_CLOEXEC) != 0) ||
	    posix_spawn_file_actions_init(&fa) != 0) {
		rc = -1;
		goto out;
	}
	/* Its stdout is not ours (ours may be the envelope); its stderr is,
	 * for the warning when a key changed. */
	rc = out != NULL ? posix_spawn_file_actions_adddup2(&fa, fd[1],
	    STDOUT_FILENO) : posix_spawn_file_actions_addopen(&fa,
	    STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
		    "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = strchr(prog, '/') ? posix_spawn(&pid, prog, &fa, NULL,
		    argv, environ) : posix_spawnp(&pid, prog, &fa, NULL, argv,
		    environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		rc = -1;
		goto out;
	}
	if (out != NULL) {
		close(fd[1]);
		fd[1] = -1;
		/* Read to the end, so that it never blocks on a full pipe. */
		while ((n = read(fd[0], chunk, sizeof(chunk))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			if (out->len + (size_t)n <= max &&
			    buf_append(out, chunk, (size_t)n) != 0)
				break;
		}
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			rc = -1;
			goto out;
		}
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
out:
	argv[0] = NULL;	/* prog is this function's */
	if (fd[0] >= 0)
		close(fd[0]);
	if (fd[1] >= 0)
		close(fd[1]);
	return rc;
}

int
contact_refresh(const char *name)
{
	/* One second of retries: the pinned keys serve when it fails. */
	char *argv[] = { NULL, "fetch", "--quiet", "--retry-time", "1",
		(char *)name, NULL };

	return run_keys(argv, NULL, 0);
}

int
contact_claim(const char *name, struct buf *out)
{
	/* One second of retries, as fetch: RSA-OAEP-256 serves when the
	 * server cannot be reached. --pinned: the caller resolved name
	 * with CONTACT_REFRESH (fetch ran), so the directory is not asked
	 * for the keys a second time. */
	char *argv[] = { NULL, "claim", "--quiet", "--pinned",
		"--retry-time", "1", (char *)name, NULL };

	return run_keys(argv, out, CONTACT_CLAIM_MAX);
}

static int
from_file(const char *path, struct contact *out, struct report *rep)
{
	int rc;

	if ((rc = keyfile_load_public(path, &out->pub[0], rep)) != 0)
		return rc;
	if ((rc = jwk_thumbprint(out->pub[0], out->kid[0], rep)) != 0)
		return rc;
	out->n = 1;
	return 0;
}

static int
from_keyring(const char *name, struct contact *out, struct report *rep)
{
	char home[HOME_PATH_MAX];
	struct keyring *k = NULL;
	struct keyring_contact *c;
	const char *other;
	size_t i;
	int rc;

	if ((rc = home_find(home, sizeof(home), rep)) != 0 ||
	    (rc = keyring_open(home, 0, &k, rep)) != 0)
		return rc;
	if (!keyring_known(k, name)) {
		report_error(rep, E2E_EX_NOINPUT, "%s is neither a key file "
		    "nor a contact in your keyring", name);
		report_hint(rep, "sign in and run e2e-keys fetch %s, or "
		    "import a key: e2e-keys import %s FILE", name, name);
		rc = E2E_EX_NOINPUT;
		goto out;
	}
	if ((rc = keyring_usable(k, name, rep)) != 0)
		goto out;
	c = keyring_find(k, name);
	/* One key is one person: a key pinned for two names (a keyring of
	 * the previous version) would make a message to one readable by
	 * the other, and a signature of one pass for the other's. */
	for (i = 0; i < c->nkeys; i++) {
		if ((other = keyring_other_name(k, c->keys[i].kid, name)) ==
		    NULL)
			continue;
		rc = report_error(rep, E2E_EX_DATAERR, "key %s is pinned for "
		    "both %s and %s: refusing to use it for %s",
		    c->keys[i].kid, name, other, name);
		report_hint(rep, "one key is one person: compare the key ids "
		    "with each of them in person (e2e-keys show NAME), then "
		    "forget the wrong one: e2e-keys forget NAME");
		goto out;
	}
	memcpy(out->name, name, strlen(name) + 1);
	for (i = 0; i < c->nkeys; i++) {
		if ((out->pub[i] = keyring_key_of(k, name,
		    c->keys[i].kid)) == NULL) {
			rc = report_error(rep, E2E_EX_CONFIG, "the key %s "
			    "pinned for %s cannot be read", c->keys[i].kid,
			    name);
			goto out;
		}
		memcpy(out->kid[i], c->keys[i].kid, KID_SIZE);
		out->n++;
	}
out:
	keyring_close(k);
	return rc;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && strcmp(s + n - t, tail) == 0;
}

/* Standard input, a path, a key file's usual name, or not a name. */
static int
looks_like_file(const char *arg)
{
	return strcmp(arg, "-") == 0 || strchr(arg, '/') != NULL ||
	    ends_with(arg, ".pub") || ends_with(arg, ".pem") ||
	    ends_with(arg, ".key") || !name_valid(arg, strlen(arg));
}

int
contact_resolve(const char *arg, int flags, struct contact *out,
    struct report *rep)
{
	struct report quiet = { 0 };
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	/* A file first: "-r bob.pub" keeps meaning the file, present or
	 * not. */
	if (!(flags & CONTACT_BY_NAME) && (looks_like_file(arg) ||
	    stat(arg, &st) == 0))
		rc = from_file(arg, out, rep);
	else {
		if (flags & CONTACT_REFRESH) {
			rc = contact_refresh(arg);
			/* A changed key was said loudly; others (not signed
			 * in, unreachable) leave the pinned keys to use. */
			if (rc == E2E_EX_DATAERR)
				return rc;
			/* A name the server does not know: only pinned keys
			 * (imported by hand) can serve. */
			if (rc == E2E_EX_NOUSER) {
				if (from_keyring(arg, out, &quiet) == 0)
					return 0;
				contact_free(out);
				return report_error(rep, E2E_EX_NOUSER, "%s is "
				    "not a user of the server", arg);
			}
		}
		rc = from_keyring(arg, out, rep);
	}
	if (rc != 0)
		contact_free(out);
	return rc;
}

/* A usage error as cli_usage_error says it. */
static int
usage_refused(struct report *rep, const char *line)
{
	report_error(rep, E2E_EX_USAGE, "%s", line);
	report_hint(rep, "see %s --help", err_prog());
	return E2E_EX_USAGE;
}

int
contact_recipients(const char *const *args, size_t n,
    struct jwe_recipient *r, char (*names)[NAME_LEN_MAX + 1], size_t max,
    size_t *nr, struct report *rep)
{
	char line[512];
	const char *given[JWE_MAX_RECIPIENTS];
	struct contact ct;
	size_t i, j, k;
	int rc = 0;

	memset(&ct, 0, sizeof(ct));
	*nr = 0;
	if (max > JWE_MAX_RECIPIENTS)
		max = JWE_MAX_RECIPIENTS;
	for (i = 0; rc == 0 && i < n; i++) {
		if ((rc = contact_resolve(args[i], CONTACT_REFRESH, &ct,
		    rep)) != 0)
			break;
		for (k = 0; rc == 0 && k < ct.n; k++) {
			for (j = 0; j < *nr; j++)
				if (strcmp(ct.kid[k], r[j].kid) == 0)
					break;
			line[0] = '\0';
			if (j < *nr)
				snprintf(line, sizeof(line), "%s and %s are "
				    "the same key (%s)", given[j], args[i],
				    ct.kid[k]);
			else if (*nr == max)
				snprintf(line, sizeof(line), "at most %zu "
				    "recipient keys", max);
			if (line[0] != '\0') {
				rc = usage_refused(rep, line);
				break;
			}
			r[*nr].pub = ct.pub[k];
			ct.pub[k] = NULL;
			memcpy(r[*nr].kid, ct.kid[k], KID_SIZE);
			memcpy(names[*nr], ct.name, strlen(ct.name) + 1);
			given[(*nr)++] = args[i];
		}
		contact_free(&ct);
	}
	contact_free(&ct);
	return rc;
}

/* A contact with several keys: the signer's among them. */
static EVP_PKEY *
signer_of(void *arg, const char *kid)
{
	const struct contact *c = arg;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->kid[i], kid) == 0)
			return c->pub[i];
	return NULL;
}

void
contact_verify_opts(struct contact *c, struct open_opts *o, char *what,
    size_t size)
{
	if (c->n == 1) {
		o->verify = c->pub[0];
		o->verify_kid = c->kid[0];
	} else if (c->n > 1) {
		snprintf(what, size, "the keys pinned for %s", c->name);
		o->signer_key = signer_of;
		o->signer_arg = c;
		o->require_signer = 1;
		o->signer_what = what;
	}
	o->verify_name = c->n > 0 && c->name[0] != '\0' ? c->name : NULL;
}

void
contact_free(struct contact *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		EVP_PKEY_free(c->pub[i]);
	c->n = 0;
}
