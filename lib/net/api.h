/*
 * api.h - e2e-server's routes, as the client tools call them. Each call
 * checks the answer's shape and turns a refusal into a report's line
 * (and hint) and the documented exit code (client.h).
 */
#ifndef E2E_API_H
#define E2E_API_H

#include <stddef.h>

#include <jansson.h>

#include "base/names.h"
#include "net/client.h"

/* POST /users/signup. */
int api_signup(struct client *c, const char *name, const char *password,
    char id[ID_LEN + 1], struct report *rep);

/* POST /users/signin: fills s (server, name, id, token, expiry). */
int api_signin(struct client *c, const char *name, const char *password,
    struct session *s, struct report *rep);

/* DELETE /users/ID of the session's user, {"password": password}: the
 * token alone does not delete an account. */
int api_delete_account(struct client *c, const char *password,
    struct report *rep);

/* POST /users/signout: the server revokes every token of the session's
 * user. 77, with nothing in rep, when the server refuses the session
 * (expired or revoked already). */
int api_signout(struct client *c, struct report *rep);

/* POST /users/password: changes the session's user's password; every
 * token is revoked, and s receives the new session the server gives
 * back (as api_signin). */
int api_password(struct client *c, const char *old_password,
    const char *new_password, struct session *s, struct report *rep);

/* POST /messages (or, legacy, /messages/sendmessage with a form body):
 * sends the envelope text to name; id receives the message id. */
int api_send(struct client *c, const char *to, const char *text,
    size_t len, int legacy, char id[ID_LEN + 1], struct report *rep);

/* GET /messages: up to limit messages (oldest first) after the id after
 * (or NULL), from the user from (or NULL), waiting up to wait_s seconds
 * for one. *messages receives the checked array (each element has id,
 * from, to, sent_at and message, a string). *more (when not NULL) is
 * set when the server cut the page short for its answer size: fewer
 * than limit does not then mean that no more are waiting. */
int api_list(struct client *c, const char *from, const char *after,
    unsigned limit, unsigned wait_s, json_t **messages, int *more,
    struct report *rep);

/* POST /messages/ack: n ids (at most API_ACK_MAX). */
#define API_ACK_MAX 1000
int api_ack(struct client *c, const char *const *ids, size_t n,
    struct report *rep);

/* POST /messages/getmessage (the original route): takes the oldest
 * message from from; *message is NULL when there is none. */
int api_take(struct client *c, const char *from, json_t **message,
    struct report *rep);

/* PUT /keys: publishes n PEM public keys of the session's user, each
 * with its proof of possession (keyproof.h). */
int api_keys_put(struct client *c, const char *const *pems,
    const char *const *proofs, size_t n, struct report *rep);

/* GET /keys/NAME: *keys receives the array of {kid, pem, created_at,
 * proof} as the server gives it (the caller checks each key). 67 when
 * the user does not exist. */
int api_keys_get(struct client *c, const char *name, json_t **keys,
    struct report *rep);

/* GET /keys/NAME, the whole answer: {name, id, keys}, its shape checked
 * (id an account id; each key's kid and pem strings, proof a string or
 * null), what it says not (the caller checks). */
int api_keys_entry(struct client *c, const char *name, json_t **answer,
    struct report *rep);

/* DELETE /keys/KID of the session's user. */
int api_key_delete(struct client *c, const char *kid,
    struct report *rep);

/* PUT /prekeys with body ({kid, signed?, one_time?}), which is taken:
 * released by the call whatever it returns (the caller never frees it,
 * nor uses it after). *answer receives {kid, one_time, signed, added}
 * (one_time checked as api_prekeys_stock's: else 76, said in one
 * line). */
int api_prekeys_put(struct client *c, json_t *body, json_t **answer,
    struct report *rep);

/* GET /prekeys: *keys receives the array of {kid, one_time, signed,
 * signed_iat} of the session's user (kid checked, one_time an integer
 * from 0 to API_PREKEYS_STOCK_MAX: else 76, said in one line). */
#define API_PREKEYS_STOCK_MAX 1000000
int api_prekeys_stock(struct client *c, json_t **keys, struct report *rep);

/* GET /prekeys/NAME, a claim: *answer receives {name, id, keys}, its
 * shape checked (id an account id, each key's kid a string), what it
 * says not: each prekey's proof is for the caller to check. */
int api_prekeys_claim(struct client *c, const char *name, json_t **answer,
    struct report *rep);

/* 1 when m is a message as the server lists it. */
int api_message_valid(const json_t *m);

#endif
