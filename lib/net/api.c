/* api.c - the server's routes (see api.h). */
#include "net/api.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsonio.h"
#include "base/term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE "application/json"
#define FORM_TYPE "application/x-www-form-urlencoded"

/* The answer as a JSON object, or NULL when it is not one. */
static json_t *
answer_object(const struct http_resp *rs)
{
	json_t *o;

	if (!rs->json || rs->body.len == 0)
		return NULL;
	o = jsonio_parse((const char *)rs->body.p, rs->body.len, NULL);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int
not_protocol(const struct http_resp *rs, const char *what,
    struct report *rep)
{
	return report_error(rep, E2E_EX_PROTOCOL, "the server's answer to %s "
	    "is not e2e-chat's (HTTP %ld); is the server URL right?", what,
	    rs->status);
}

/* An answer that is not the route's, said once for every route. */
static int
not_ours(const char *what, struct report *rep)
{
	return report_error(rep, E2E_EX_PROTOCOL, "the server's %s is not "
	    "e2e-chat's", what);
}

/*
 * A refusal (4xx) as one line and an exit code. authed: the request
 * carried the session's token, so 401/403 means it was refused.
 */
static int
refused(struct client *c, const struct http_resp *rs, const char *what,
    int authed, struct report *rep)
{
	json_t *o = answer_object(rs);
	const char *msg = o ? jsonio_str(o, "error", NULL) : NULL;
	char safe[300];
	int rc;

	if (msg == NULL) {
		json_decref(o);
		return not_protocol(rs, what, rep);
	}
	term_escape(msg, strlen(msg), safe, sizeof(safe));
	switch (rs->status) {
	case 401:
	case 403:
		rc = E2E_EX_NOPERM;
		if (!authed) {
			report_error(rep, rc, "%s: %s: wrong name or password",
			    what, safe);
		} else if (strcmp(msg, "authentication failed") == 0) {
			report_error(rep, rc, "the server refused your session "
			    "(expired, revoked or for another server)");
			report_hint(rep, "sign in again: e2e-account signin %s",
			    c->sess.name);
		} else {
			report_error(rep, rc, "%s: %s", what, safe);
		}
		break;
	case 404:
		rc = strncmp(msg, "no such user", 12) == 0 ? E2E_EX_NOUSER :
		    E2E_EX_DATAERR;
		report_error(rep, rc, "%s: %s", what, safe);
		break;
	case 409:
		rc = report_error(rep, E2E_EX_DATAERR, "%s: %s", what, safe);
		break;
	case 413:
		rc = report_error(rep, E2E_EX_DATAERR, "%s: too large for the "
		    "server: %s", what, safe);
		break;
	case 429:
		rc = report_error(rep, E2E_EX_TEMPFAIL, "%s: %s", what, safe);
		if (rs->retry_after > 0)
			report_hint(rep, "try again in %ld s", rs->retry_after);
		break;
	case 507:
		/* A mailbox at its quota: it makes room as its owner reads;
		 * the server's disk full: as its operator makes room. */
		rc = report_error(rep, E2E_EX_TEMPFAIL, "%s: %s", what, safe);
		if (strncmp(msg, "the server's disk is full", 25) == 0)
			report_hint(rep, "try again once the server's operator "
			    "has freed disk space");
		else
			report_hint(rep, "try again once the recipient has "
			    "read some messages");
		break;
	default:
		rc = rs->status >= 400 && rs->status < 500 ? E2E_EX_DATAERR :
		    E2E_EX_PROTOCOL;
		report_error(rep, rc, "%s: the server refused it (HTTP %ld): "
		    "%s", what, rs->status, safe);
	}
	json_decref(o);
	return rc;
}

/*
 * One exchange whose success is a 200 with a JSON object (or a 204 when
 * allowed: *out stays NULL). Returns 0 or an exit code (in rep).
 */
static int
call(struct client *c, const struct http_req *rq, const char *what,
    int authed, json_t **out, struct report *rep)
{
	struct http_resp rs;
	int rc;

	*out = NULL;
	if ((rc = http_call(c->http, rq, &rs, rep)) != 0)
		goto out;
	if (rs.status == 204) {
		rc = 0;
	} else if (rs.status != 200) {
		rc = rs.status >= 400 ? refused(c, &rs, what, authed, rep) :
		    not_protocol(&rs, what, rep);
	} else if ((*out = answer_object(&rs)) == NULL) {
		rc = not_protocol(&rs, what, rep);
	}
out:
	http_resp_free(&rs);
	return rc;
}

/* The text of a JSON body, wiped when freed (jsonio_wipe_on_free);
 * NULL, said in rep, when out of memory or when o is NULL (a json_pack
 * that failed). Takes o: released here whatever happens, so a route
 * handed a body never frees it. */
static char *
dump(json_t *o, struct report *rep)
{
	char *s = o ? jsonio_dump(o) : NULL;

	json_decref(o);
	if (s == NULL)
		report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	return s;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		wipe(s, strlen(s));
		free(s);
	}
}

static int
copy_id(const json_t *o, char id[ID_LEN + 1])
{
	const char *v = jsonio_str(o, "id", NULL);

	if (v == NULL || !id_valid(v))
		return -1;
	memcpy(id, v, ID_LEN + 1);
	return 0;
}

static int
credentials_call(struct client *c, const char *path, const char *name,
    const char *password, const char *what, json_t **out,
    struct report *rep)
{
	struct http_req rq;
	char *body;
	int rc;

	if ((body = dump(json_pack("{s:s,s:s}", "name", name, "password",
	    password), rep)) == NULL)
		return E2E_EX_SOFTWARE;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = path;
	rq.type = JSON_TYPE;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.secret = 1;
	/* Signing up twice would answer "name taken" to the second. */
	rq.retry = HTTP_RETRY_UNSENT;
	rq.max_answer = 64 * 1024;
	rc = call(c, &rq, what, 0, out, rep);
	free_secret(body);
	return rc;
}

int
api_signup(struct client *c, const char *name, const char *password,
    char id[ID_LEN + 1], struct report *rep)
{
	json_t *o;
	int rc;

	if ((rc = credentials_call(c, "/users/signup", name, password,
	    "sign-up", &o, rep)) != 0)
		return rc;
	if (o == NULL || copy_id(o, id) != 0)
		rc = not_ours("answer to the sign-up", rep);
	json_decref(o);
	return rc;
}

int
api_signin(struct client *c, const char *name, const char *password,
    struct session *s, struct report *rep)
{
	json_t *o, *exp;
	const char *token;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = credentials_call(c, "/users/signin", name, password,
	    "sign-in", &o, rep)) != 0)
		return rc;
	if (o == NULL || copy_id(o, s->id) != 0 ||
	    (token = jsonio_str(o, "token", &len)) == NULL || len == 0 ||
	    len > SESSION_TOKEN_MAX || !session_token_valid(token, len) ||
	    !json_is_integer(exp = json_object_get(o, "expires_at"))) {
		json_decref(o);
		return not_ours("answer to the sign-in", rep);
	}
	memcpy(s->token, token, len + 1);
	s->expires_at = json_integer_value(exp);
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->server, sizeof(s->server), "%s", http_server(c->http));
	json_decref(o);
	return 0;
}

int
api_delete_account(struct client *c, const char *password,
    struct report *rep)
{
	struct http_req rq;
	char path[64], *body;
	json_t *o;
	int rc;

	if ((body = dump(json_pack("{s:s}", "password", password), rep)) ==
	    NULL)
		return E2E_EX_SOFTWARE;
	snprintf(path, sizeof(path), "/users/%s", c->sess.id);
	memset(&rq, 0, sizeof(rq));
	rq.method = "DELETE";
	rq.path = path;
	rq.type = JSON_TYPE;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.token = c->sess.token;
	rq.secret = 1;
	rq.retry = HTTP_RETRY_UNSENT;
	rq.max_answer = 64 * 1024;
	if ((rc = call(c, &rq, "account deletion", 1, &o, rep)) == 0 &&
	    (o == NULL || !json_is_true(json_object_get(o, "deleted"))))
		rc = not_ours("answer to the deletion", rep);
	free_secret(body);
	json_decref(o);
	return rc;
}

int
api_signout(struct client *c, struct report *rep)
{
	struct http_req rq;
	struct http_resp rs;
	json_t *o = NULL;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/users/signout";
	rq.type = JSON_TYPE;
	rq.body = "{}";		/* a POST, even without anything to say */
	rq.body_len = 2;
	rq.token = c->sess.token;
	rq.retry = HTTP_RETRY_SAFE;	/* signing out twice is harmless */
	rq.max_answer = 64 * 1024;
	if ((rc = http_call(c->http, &rq, &rs, rep)) != 0)
		goto out;
	if (rs.status == 401 || rs.status == 403) {
		/* Refused already: expired, or revoked. Not an error here. */
		rc = E2E_EX_NOPERM;
	} else if (rs.status >= 400) {
		rc = refused(c, &rs, "signing out", 1, rep);
	} else if (rs.status != 200 || (o = answer_object(&rs)) == NULL ||
	    !json_is_true(json_object_get(o, "signed_out"))) {
		rc = not_protocol(&rs, "the sign-out", rep);
	}
out:
	json_decref(o);
	http_resp_free(&rs);
	return rc;
}

int
api_password(struct client *c, const char *old_password,
    const char *new_password, struct session *s, struct report *rep)
{
	struct http_req rq;
	json_t *o = NULL, *exp;
	const char *token;
	char *body;
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((body = dump(json_pack("{s:s,s:s}", "old_password", old_password,
	    "new_password", new_password), rep)) == NULL)
		return E2E_EX_SOFTWARE;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/users/password";
	rq.type = JSON_TYPE;
	rq.body = body;
	rq.body_len = strlen(body);
	rq.token = c->sess.token;
	rq.secret = 1;
	/* Twice, the second would find the old password wrong. */
	rq.retry = HTTP_RETRY_UNSENT;
	rq.max_answer = 64 * 1024;
	rc = call(c, &rq, "changing the password", 1, &o, rep);
	free_secret(body);
	if (rc != 0)
		return rc;
	if (o == NULL || copy_id(o, s->id) != 0 ||
	    strcmp(s->id, c->sess.id) != 0 ||
	    (token = jsonio_str(o, "token", &len)) == NULL || len == 0 ||
	    len > SESSION_TOKEN_MAX || !session_token_valid(token, len) ||
	    !json_is_integer(exp = json_object_get(o, "expires_at"))) {
		json_decref(o);
		return not_ours("answer to the password change", rep);
	}
	memcpy(s->token, token, len + 1);
	s->expires_at = json_integer_value(exp);
	memcpy(s->name, c->sess.name, sizeof(s->name));
	memcpy(s->server, c->sess.server, sizeof(s->server));
	json_decref(o);
	return 0;
}

/* application/x-www-form-urlencoded: name=value&..., each escaped. */
static int
form_add(struct buf *b, const char *name, const char *v, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char ch;
	size_t i;
	char e[3];

	if ((b->len > 0 && buf_append(b, "&", 1) != 0) ||
	    buf_append_str(b, name) != 0 || buf_append(b, "=", 1) != 0)
		return -1;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)v[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			if (buf_append(b, &v[i], 1) != 0)
				return -1;
			continue;
		}
		e[0] = '%';
		e[1] = hex[ch >> 4];
		e[2] = hex[ch & 15];
		if (buf_append(b, e, 3) != 0)
			return -1;
	}
	return 0;
}

int
api_send(struct client *c, const char *to, const char *text, size_t len,
    int legacy, char id[ID_LEN + 1], struct report *rep)
{
	struct http_req rq;
	struct buf body = BUF_INIT;
	json_t *o = NULL, *v;
	char *s = NULL;
	int rc = E2E_EX_SOFTWARE;

	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.token = c->sess.token;
	/* Sent twice, it would arrive twice. */
	rq.retry = HTTP_RETRY_UNSENT;
	rq.max_answer = 64 * 1024;
	if (legacy) {
		/* As the original client: a form with from, to, message. */
		if (form_add(&body, "from", c->sess.name,
		    strlen(c->sess.name)) != 0 ||
		    form_add(&body, "to", to, strlen(to)) != 0 ||
		    form_add(&body, "message", text, len) != 0)
			goto nomem;
		rq.path = "/messages/sendmessage";
		rq.type = FORM_TYPE;
		rq.body = body.p;
		rq.body_len = body.len;
	} else {
		if ((v = json_stringn(text, len)) == NULL ||
		    (s = dump(json_pack("{s:s,s:o}", "to", to, "message",
		    v), rep)) == NULL)
			goto nomem;
		rq.path = "/messages";
		rq.type = JSON_TYPE;
		rq.body = s;
		rq.body_len = strlen(s);
	}
	if ((rc = call(c, &rq, "sending", 1, &o, rep)) == 0 &&
	    (o == NULL || copy_id(o, id) != 0))
		rc = not_ours("answer to the sending", rep);
	goto out;
nomem:
	rc = report_error(rep, E2E_EX_SOFTWARE, "out of memory");
out:
	json_decref(o);
	free(s);
	buf_free(&body);
	return rc;
}

int
api_message_valid(const json_t *m)
{
	const char *id, *from, *to;
	size_t from_len, to_len;

	return json_is_object(m) &&
	    (id = jsonio_str(m, "id", NULL)) != NULL && id_valid(id) &&
	    (from = jsonio_str(m, "from", &from_len)) != NULL &&
	    name_valid(from, from_len) &&
	    (to = jsonio_str(m, "to", &to_len)) != NULL &&
	    name_valid(to, to_len) &&
	    json_is_integer(json_object_get(m, "sent_at")) &&
	    json_is_string(json_object_get(m, "message"));
}

int
api_list(struct client *c, const char *from, const char *after,
    unsigned limit, unsigned wait_s, json_t **messages, int *more,
    struct report *rep)
{
	struct http_req rq;
	char path[256];
	json_t *o, *arr, *m;
	size_t i;
	int n, rc;

	*messages = NULL;
	if (more != NULL)
		*more = 0;
	n = snprintf(path, sizeof(path), "/messages?limit=%u&wait=%u%s%s%s%s",
	    limit, wait_s, from ? "&from=" : "", from ? from : "",
	    after ? "&after=" : "", after ? after : "");
	if (n < 0 || (size_t)n >= sizeof(path))
		return E2E_EX_SOFTWARE;
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = path;
	rq.token = c->sess.token;
	rq.retry = HTTP_RETRY_SAFE;
	rq.wait_s = wait_s;
	/* The client's cap (--max-answer): the caller asks for fewer
	 * messages when a page of them is over it. */
	rq.max_answer = 0;
	if ((rc = call(c, &rq, "receiving", 1, &o, rep)) != 0)
		return rc;
	if (o == NULL || !json_is_array(arr = json_object_get(o, "messages")) ||
	    json_array_size(arr) > limit)
		goto bad;
	json_array_foreach(arr, i, m)
		if (!api_message_valid(m))
			goto bad;
	if (json_object_get(o, "more") != NULL &&
	    !json_is_boolean(json_object_get(o, "more")))
		goto bad;
	if (more != NULL)
		*more = json_is_true(json_object_get(o, "more"));
	*messages = json_incref(arr);
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	return not_ours("list of messages", rep);
}

int
api_ack(struct client *c, const char *const *ids, size_t n,
    struct report *rep)
{
	struct http_req rq;
	json_t *arr, *o;
	char *s;
	size_t i;
	int rc;

	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(ids[i])) != 0) {
			json_decref(arr);
			goto nomem;
		}
	if ((s = dump(json_pack("{s:o}", "ids", arr), rep)) == NULL)
		return E2E_EX_SOFTWARE;
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/messages/ack";
	rq.type = JSON_TYPE;
	rq.body = s;
	rq.body_len = strlen(s);
	rq.token = c->sess.token;
	rq.retry = HTTP_RETRY_SAFE;	/* acknowledging twice is harmless */
	rq.max_answer = 64 * 1024;
	if ((rc = call(c, &rq, "acknowledging", 1, &o, rep)) == 0 &&
	    (o == NULL || !json_is_integer(json_object_get(o, "deleted"))))
		rc = not_ours("answer to the acknowledgement", rep);
	json_decref(o);
	free(s);
	return rc;
nomem:
	return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
}

int
api_take(struct client *c, const char *from, json_t **message,
    struct report *rep)
{
	struct http_req rq;
	struct buf body = BUF_INIT;
	json_t *o = NULL;
	int rc;

	*message = NULL;
	if (form_add(&body, "from", from, strlen(from)) != 0 ||
	    form_add(&body, "to", c->sess.name, strlen(c->sess.name)) != 0) {
		buf_free(&body);
		return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/messages/getmessage";
	rq.type = FORM_TYPE;
	rq.body = body.p;
	rq.body_len = body.len;
	rq.token = c->sess.token;
	/* Taking deletes it: a lost answer loses the message. */
	rq.retry = HTTP_RETRY_UNSENT;
	rq.max_answer = 0;	/* the client's cap (--max-answer) */
	rc = call(c, &rq, "receiving", 1, &o, rep);
	buf_free(&body);
	if (rc != 0)
		return rc;
	if (o != NULL && !api_message_valid(o)) {
		json_decref(o);
		return not_ours("message", rep);
	}
	*message = o;
	return 0;
}

/* ---- the key directory ---- */

int
api_keys_put(struct client *c, const char *const *pems,
    const char *const *proofs, size_t n, struct report *rep)
{
	struct http_req rq;
	json_t *arr, *o;
	char *s;
	size_t i;
	int rc;

	if ((arr = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_pack("{s:s,s:s}", "pem",
		    pems[i], "proof", proofs[i])) != 0) {
			json_decref(arr);
			goto nomem;
		}
	if ((s = dump(json_pack("{s:o}", "keys", arr), rep)) == NULL)
		return E2E_EX_SOFTWARE;
	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.path = "/keys";
	rq.type = JSON_TYPE;
	rq.body = s;
	rq.body_len = strlen(s);
	rq.token = c->sess.token;
	rq.retry = HTTP_RETRY_SAFE;	/* publishing twice is the same */
	rq.max_answer = 1 << 20;
	rc = call(c, &rq, "publishing keys", 1, &o, rep);
	json_decref(o);
	free(s);
	return rc;
nomem:
	return report_error(rep, E2E_EX_SOFTWARE, "out of memory");
}

/* A key of GET /keys/NAME: its kid and pem strings, proof a string or
 * null. */
static int
key_entry_ok(const json_t *k)
{
	const json_t *proof = json_object_get(k, "proof");

	return jsonio_str(k, "pem", NULL) != NULL && (proof == NULL ||
	    json_is_string(proof) || json_is_null(proof));
}

/*
 * GET path for the user name, whose answer is {name, id, keys}: id an
 * account id, keys an array of at most 64 objects, each with a kid
 * string and passing entry_ok when not NULL. An answer for another name
 * than asked is refused (65): the server would pass one user's keys off
 * as another's. what names the request ("fetching keys"), whose the
 * things answered for ("keys", "prekeys"). Returns 0 with *answer, or
 * an exit code (in rep).
 */
static int
name_entry(struct client *c, const char *path, const char *name,
    enum http_retry retry, const char *what, const char *whose,
    int (*entry_ok)(const json_t *), json_t **answer, struct report *rep)
{
	struct http_req rq;
	const json_t *arr, *k;
	const char *id, *said;
	char safe[64];
	json_t *o;
	size_t i;
	int rc;

	*answer = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = path;
	rq.token = c->sess.token;
	rq.retry = retry;
	rq.max_answer = 1 << 20;
	if ((rc = call(c, &rq, what, 1, &o, rep)) != 0)
		return rc;
	arr = o ? json_object_get(o, "keys") : NULL;
	if (!json_is_array(arr) || json_array_size(arr) > 64 ||
	    (said = jsonio_str(o, "name", NULL)) == NULL ||
	    (id = jsonio_str(o, "id", NULL)) == NULL || !id_valid(id))
		goto bad;
	json_array_foreach(arr, i, k)
		if (!json_is_object(k) || jsonio_str(k, "kid", NULL) == NULL ||
		    (entry_ok != NULL && !entry_ok(k)))
			goto bad;
	if (strcmp(said, name) != 0) {
		term_escape(said, strlen(said), safe, sizeof(safe));
		rc = report_error(rep, E2E_EX_DATAERR, "asked for the %s of "
		    "%s, the server answered with those of %s: refused", whose,
		    name, safe);
		json_decref(o);
		return rc;
	}
	*answer = o;
	return 0;
bad:
	json_decref(o);
	snprintf(safe, sizeof(safe), "answer to %s", what);
	return not_ours(safe, rep);
}

int
api_keys_entry(struct client *c, const char *name, json_t **answer,
    struct report *rep)
{
	char path[128];

	snprintf(path, sizeof(path), "/keys/%s", name);
	return name_entry(c, path, name, HTTP_RETRY_SAFE, "fetching keys",
	    "keys", key_entry_ok, answer, rep);
}

int
api_keys_get(struct client *c, const char *name, json_t **keys,
    struct report *rep)
{
	json_t *o;
	int rc;

	*keys = NULL;
	if ((rc = api_keys_entry(c, name, &o, rep)) != 0)
		return rc;
	*keys = json_incref(json_object_get(o, "keys"));
	json_decref(o);
	return 0;
}

int
api_key_delete(struct client *c, const char *kid, struct report *rep)
{
	struct http_req rq;
	char path[128];
	json_t *o;
	int rc;

	snprintf(path, sizeof(path), "/keys/%s", kid);
	memset(&rq, 0, sizeof(rq));
	rq.method = "DELETE";
	rq.path = path;
	rq.token = c->sess.token;
	rq.retry = HTTP_RETRY_UNSENT;
	rq.max_answer = 64 * 1024;
	rc = call(c, &rq, "withdrawing a key", 1, &o, rep);
	json_decref(o);
	return rc;
}

/* A stock's one_time, n (GET or PUT /prekeys): a count the top-up
 * computes with, never negative, never past what a store can hold.
 * Returns 0, or 76 said in one line. */
static int
stock_count(const json_t *n, struct report *rep)
{
	if (json_is_integer(n) && json_integer_value(n) >= 0 &&
	    json_integer_value(n) <= API_PREKEYS_STOCK_MAX)
		return 0;
	return report_error(rep, E2E_EX_PROTOCOL, "the server's prekey stock "
	    "is not a count of prekeys (one_time must be an integer from 0 "
	    "to %d): refused", API_PREKEYS_STOCK_MAX);
}

int
api_prekeys_put(struct client *c, json_t *body, json_t **answer,
    struct report *rep)
{
	struct http_req rq;
	char *s;
	int rc;

	*answer = NULL;
	/* body is taken (api.h): dump releases it, on every path. */
	if ((s = dump(body, rep)) == NULL)
		return E2E_EX_SOFTWARE;
	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.path = "/prekeys";
	rq.type = JSON_TYPE;
	rq.body = s;
	rq.body_len = strlen(s);
	rq.token = c->sess.token;
	/* The server skips a one-time prekey it holds already: sent twice,
	 * the same stock. */
	rq.retry = HTTP_RETRY_SAFE;
	rq.max_answer = 64 * 1024;
	rc = call(c, &rq, "publishing prekeys", 1, answer, rep);
	free(s);
	if (rc == 0 && *answer == NULL)
		return not_ours("answer to publishing prekeys", rep);
	if (rc == 0 && (rc = stock_count(json_object_get(*answer,
	    "one_time"), rep)) != 0) {
		json_decref(*answer);
		*answer = NULL;
	}
	return rc;
}

int
api_prekeys_stock(struct client *c, json_t **keys, struct report *rep)
{
	struct http_req rq;
	const json_t *e;
	json_t *o;
	size_t i;
	int rc;

	*keys = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = "/prekeys";
	rq.token = c->sess.token;
	rq.retry = HTTP_RETRY_SAFE;
	rq.max_answer = 1 << 20;
	if ((rc = call(c, &rq, "reading the prekey stock", 1, &o, rep)) != 0)
		return rc;
	if (o == NULL || !json_is_array(json_object_get(o, "keys")))
		goto bad;
	json_array_foreach(json_object_get(o, "keys"), i, e) {
		if (jsonio_str(e, "kid", NULL) == NULL)
			goto bad;
		if ((rc = stock_count(json_object_get(e, "one_time"),
		    rep)) != 0) {
			json_decref(o);
			return rc;
		}
	}
	*keys = json_incref(json_object_get(o, "keys"));
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	return not_ours("answer to reading the prekey stock", rep);
}

int
api_prekeys_claim(struct client *c, const char *name, json_t **answer,
    struct report *rep)
{
	char path[128];

	snprintf(path, sizeof(path), "/prekeys/%s", name);
	/* A claim takes a one-time prekey: asked twice, two are gone, which
	 * wastes one and breaks nothing. Its prekeys' proofs are for the
	 * caller to check (prekeydir_claim). */
	return name_entry(c, path, name, HTTP_RETRY_UNSENT,
	    "claiming prekeys", "prekeys", NULL, answer, rep);
}
