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
	*is_path = 1;
	if (KEY(cacert))
		return &c->cacert;
	if (KEY(identity))
		return &c->identity;
#undef KEY
	return NULL;
}

static int
bad(const char *path, unsigned line, const char *why)
{
	err_error("%s:%u: %s", path, line, why);
	return E2E_EX_CONFIG;
}

/* Reads the file into b, refusing one that others could have written
 * (file_policy_config). Returns 0, -1 when there is none, or 78. */
static int
read_config(const char *path, struct buf *b)
{
	switch (file_read_private(path, &file_policy_config, b)) {
	case FILE_OK:
		return 0;
	case FILE_ABSENT:
		return -1;
	case FILE_CANNOT_OPEN:
		err_errno("cannot open %s", path);
		break;
	case FILE_NOT_OWNER:
	case FILE_EXPOSED:
		/* It names the server and the CA to trust. */
		err_error("%s can be changed by other users; not using it",
		    path);
		err_hint("chmod 600 %s", path);
		break;
	case FILE_TOO_LARGE:
		err_error("%s is larger than %zu bytes", path,
		    file_policy_config.max);
		break;
	case FILE_CANNOT_READ:
		err_errno("cannot read %s", path);
		break;
	case FILE_NO_MEMORY:
		return E2E_EX_SOFTWARE;
	default:
		err_error("%s is not a regular file", path);
		break;
	}
	return E2E_EX_CONFIG;
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
config_load(const char *home, struct config *c)
{
	char path[HOME_PATH_MAX], full[HOME_PATH_MAX], *text, *line, *next;
	char *eq, *end, **dst;
	const char *key, *val;
	struct buf b = BUF_INIT;
	unsigned lineno = 0;
	size_t len;
	int rc, is_path;

	memset(c, 0, sizeof(*c));
	if ((rc = home_file(home, "config", path, sizeof(path))) != 0)
		return rc;
	if ((rc = read_config(path, &b)) != 0) {
		buf_free(&b);
		return rc < 0 ? 0 : rc;
	}
	text = (char *)b.p;
	len = b.len;
	if (memchr(text, '\0', len) != NULL) {
		rc = bad(path, 0, "the file holds a NUL byte");
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
			rc = bad(path, lineno, "expected \"key = value\"");
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
			    "cacert, pin, proxy, identity, name)");
			goto out;
		}
		if (*val == '\0') {
			rc = bad(path, lineno, "the value is empty");
			goto out;
		}
		if (*dst != NULL) {
			rc = bad(path, lineno, "the key is given twice");
			goto out;
		}
		if (is_path && val[0] != '/') {
			if ((rc = home_file(home, val, full,
			    sizeof(full))) != 0)
				goto out;
			val = full;
		}
		if ((*dst = strdup(val)) == NULL) {
			err_error("out of memory");
			rc = E2E_EX_SOFTWARE;
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
	memset(c, 0, sizeof(*c));
}

int
config_identity_path(char *path, size_t size)
{
	char home[HOME_PATH_MAX];
	struct config cfg;
	int rc;

	if ((rc = home_find(home, sizeof(home))) != 0 ||
	    (rc = config_load(home, &cfg)) != 0)
		return rc;
	rc = -1;
	if (cfg.identity != NULL) {
		if (strlen(cfg.identity) >= size) {
			err_error("the identity path is too long");
			rc = E2E_EX_CONFIG;
		} else {
			memcpy(path, cfg.identity, strlen(cfg.identity) + 1);
			rc = 0;
		}
	}
	config_free(&cfg);
	return rc;
}
