/*
 * server.h - e2e-server: the chat server (libmicrohttpd, epoll, a few
 * threads) over a store (store.h). server_run() serves until SIGTERM or
 * SIGINT, then shuts down cleanly.
 */
#ifndef E2E_SERVER_H
#define E2E_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct server_config {
	const char *listen;		/* "127.0.0.1:8080", "[::1]:0" */
	const char *db;			/* SQLite database file */
	const char *secret_file;	/* NULL: kept in the database */
	int64_t token_ttl;		/* seconds */
	unsigned bcrypt_cost;
	size_t max_message;		/* bytes of a send's body */
	unsigned signin_name_limit;	/* failures per (name, address) before
					 * the backoff starts */
	unsigned signin_addr_limit;	/* failures per address per window */
	unsigned signup_addr_limit;	/* signups per address per window */
	unsigned limit_window;		/* seconds */
	unsigned max_connections;
	unsigned max_per_ip;
	unsigned conn_timeout;		/* seconds idle */
	unsigned threads;		/* connection threads */
	unsigned max_wait;		/* long-poll seconds */
	int quiet;			/* no request log */
	const char *public_url;		/* the URL clients use: the aud of
					 * key proofs (NULL: http://ADDRESS:
					 * PORT of the bound address) */
	int64_t name_quarantine;	/* seconds a deleted account's name
					 * and key ids rest */
	const char *import_users;	/* the original's, at start (import.h) */
	const char *import_messages;
	/* Accounts, mailboxes and rates (docs/SERVER.md). */
	unsigned signin_backoff;	/* seconds: the first wait after
					 * signin_name_limit failures, doubled
					 * at each more, at most limit_window */
	unsigned signin_account_rate;	/* successful sign-ins per account per
					 * hour, in bursts of as many */
	unsigned signin_addr_rate;	/* the same per address */
	unsigned bcrypt_workers;	/* 0: one per core */
	unsigned signin_queue;		/* bcrypt jobs waiting, at most */
	size_t min_password;		/* bytes */
	size_t mailbox_max_messages;
	size_t mailbox_max_bytes;	/* of message bodies */
	unsigned send_rate;		/* sends per account per second */
	unsigned send_burst;
	size_t max_answer_bytes;	/* of a list of messages, encoded */
	size_t max_body_memory;		/* bytes of request bodies at once */
	unsigned linger;		/* seconds of lingering close; 0: off */
	/* ADDR[/PREFIX] strings, checked by server_config_nets(). */
	const char *const *trusted_proxies;	/* X-Forwarded-For from these */
	size_t ntrusted_proxies;
	const char *const *metrics_allow;	/* /metrics beside loopback */
	size_t nmetrics_allow;
	/* Several servers on one database (docs/SERVER.md). */
	int secret_rotate;		/* this start's secret replaces the
					 * database's (auth_secret_check) */
	unsigned poll_interval;		/* ms: a waiting receiver looks at the
					 * store again this often (a message
					 * another server stored); 0: never */
	unsigned commit_delay;		/* us the writer waits for more sends
					 * to commit with (store_commit_delay);
					 * 0: at once */
	/* Prekeys (issue 16; docs/SERVER.md). */
	size_t prekeys_max;		/* one-time prekeys per identity key */
	unsigned prekeys_batch;		/* one-time prekeys per PUT /prekeys */
	unsigned prekey_claim_rate;	/* one-time prekeys a caller claims per
					 * hour, in bursts of as many */
};

/* Fills in the defaults. */
void server_config_defaults(struct server_config *c);

/* Checks an ADDR[/PREFIX] of --trusted-proxy or --metrics-allow: 0, or
 * -1 when it is not one. */
int server_config_net(const char *s);

/* What signed-in senders may hold of --max-body-memory (three quarters;
 * a quarter is kept for uploads without a token header). */
size_t server_config_signed_in_bodies(size_t max_body_memory);

/*
 * Opens the store, listens, prints the port on stdout (one line), serves
 * until SIGTERM or SIGINT, and shuts down: in-flight requests finish,
 * waiting receivers are answered, the database is closed. Returns an exit
 * code (0 after a clean shutdown). When requests are still in flight 5 s
 * after the signal, it ends the process itself (_exit, with that code):
 * their threads still run, and exit()'s cleanups would run under them.
 */
int server_run(const struct server_config *c);

/*
 * --check-names: opens (and, from an older schema, migrates) the
 * database and prints on stdout, one line each, the groups of existing
 * accounts whose names people cannot tell apart (names.h's skeleton),
 * their names separated by spaces. Returns an exit code (0 also when
 * there is a clash: it is a report; 66 when there is no database).
 */
int server_check_names(const struct server_config *c);

#endif
