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
	unsigned signin_name_limit;	/* failures per name per window */
	unsigned signin_addr_limit;	/* failures per address per window */
	unsigned signup_addr_limit;	/* signups per address per window */
	unsigned limit_window;		/* seconds */
	unsigned max_connections;
	unsigned max_per_ip;
	unsigned conn_timeout;		/* seconds idle */
	unsigned threads;		/* connection threads */
	unsigned max_wait;		/* long-poll seconds */
	int quiet;			/* no request log */
	size_t max_body_memory;		/* bytes of request bodies at once */
	unsigned linger;		/* seconds of lingering close; 0: off */
	/* ADDR[/PREFIX] strings, checked by server_config_nets(). */
	const char *const *trusted_proxies;	/* X-Forwarded-For from these */
	size_t ntrusted_proxies;
	const char *const *metrics_allow;	/* /metrics beside loopback */
	size_t nmetrics_allow;
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
 * code (0 after a clean shutdown).
 */
int server_run(const struct server_config *c);

#endif
