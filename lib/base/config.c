/* config.c - the client's config file (see config.h). */
#include "base/config.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/home.h"

#include <stdlib.h>
#include <string.h>

static char **
slot(struct config *c, const char *key, size_t len, int *is_path)
{
	*is_path = 0;
#define KEY(k) (len == sizeof(#k) - 1 && memcmp(key, #k, len) == 0)
	if (KEY(server))
		return &c->server;
	if (KEY(pin))
		return &c->pin;
	if (KEY(proxy))
		return &c->proxy;
	if (KEY(name))
		return &c->name;
	if (KEY(fs_grace))
		return &c->fs_grace;
	if (KEY(prekeys))
		return &c->prekeys;
	*is_path = 1;
	if (KEY(cacert))
		return &c->cacert;
	if (KEY(identity))
		return &c->identity;
#undef KEY
	return NULL;
}

static int
bad(const char *path, unsigned line, const char *why, struct report *rep)
{
	return report_error(rep, E2E_EX_CONFIG, "%s:%u: %s", path, line,
	    why);
}

/* Reads the file into b, refusing one that others could have written
 * (file_policy_config: it names the server and the CA to trust).
 * Returns 0, -1 when there is none, or an exit code (reported). */
static int
read_config(const char *path, struct buf *b, struct report *rep)
{
	static const struct file_refusal why = {
		.refused = "is not a regular file",
		.not_owner = "can be changed by other users",
		.exposed = "can be changed by other users",
	};

	return file_read_private_report(path, &file_policy_config, b,
	    E2E_EX_CONFIG, &why, rep);
}

static const char *
trim(char *s, char **end)
{
	while (*s == ' ' || *s == '\t')
		s++;
	while (*end > s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' ||
	    (*end)[-1] == '\r'))
		(*end)--;
	**end = '\0';
	return s;
}

int
config_load(const char *home, struct config *c, struct report *rep)
{
	char path[HOME_PATH_MAX], full[HOME_PATH_MAX], *text, *line, *next;
	char *eq, *end, **dst;
	const char *key, *val;
	struct buf b = BUF_INIT;
	unsigned lineno = 0;
	size_t len;
	int rc, is_path;

	memset(c, 0, sizeof(*c));
	if ((rc = home_file(home, "config", path, sizeof(path), rep)) != 0)
		return rc;
	if ((rc = read_config(path, &b, rep)) != 0) {
		buf_free(&b);
		return rc < 0 ? 0 : rc;
	}
	text = (char *)b.p;
	len = b.len;
	if (memchr(text, '\0', len) != NULL) {
		rc = bad(path, 0, "the file holds a NUL byte", rep);
		goto out;
	}
	for (line = text; line < text + len; line = next) {
		lineno++;
		end = line + strcspn(line, "\n");
		next = *end == '\n' ? end + 1 : end;
		key = trim(line, &end);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			rc = bad(path, lineno, "expected \"key = value\"", rep);
			goto out;
		}
		val = eq + 1;
		while (*val == ' ' || *val == '\t')
			val++;
		while (eq > key && (eq[-1] == ' ' || eq[-1] == '\t'))
			eq--;
		if ((dst = slot(c, key, (size_t)(eq - key), &is_path)) ==
		    NULL) {
			rc = bad(path, lineno, "unknown key (known: server, "
			    "cacert, pin, proxy, identity, name)", rep);
			goto out;
		}
		if (*val == '\0') {
			rc = bad(path, lineno, "the value is empty", rep);
			goto out;
		}
		if (*dst != NULL) {
			rc = bad(path, lineno, "the key is given twice", rep);
			goto out;
		}
		if (is_path && val[0] != '/') {
			if ((rc = home_file(home, val, full,
			    sizeof(full), rep)) != 0)
				goto out;
			val = full;
		}
		if ((*dst = strdup(val)) == NULL) {
			rc = report_error(rep, E2E_EX_SOFTWARE,
			    "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	buf_free(&b);
	if (rc != 0)
		config_free(c);
	return rc;
}

void
config_free(struct config *c)
{
	free(c->server);
	free(c->cacert);
	free(c->pin);
	free(c->proxy);
	free(c->identity);
	free(c->name);
	free(c->fs_grace);
	free(c->prekeys);
	memset(c, 0, sizeof(*c));
}

int
config_identity_path(char *path, size_t size, struct report *rep)
{
	char home[HOME_PATH_MAX];
	struct config cfg;
	int rc;

	if ((rc = home_find(home, sizeof(home), rep)) != 0 ||
	    (rc = config_load(home, &cfg, rep)) != 0)
		return rc;
	rc = -1;
	if (cfg.identity != NULL) {
		if (strlen(cfg.identity) >= size) {
			rc = report_error(rep, E2E_EX_CONFIG,
			    "the identity path is too long");
		} else {
			memcpy(path, cfg.identity, strlen(cfg.identity) + 1);
			rc = 0;
		}
	}
	config_free(&cfg);
	return rc;
}
