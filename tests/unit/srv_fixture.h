/*
 * srv_fixture.h - the server that test_srv_routes.c and
 * tests/fuzz/fuzz_srv_routes.c run requests on, through httpd.h's test
 * seam: a real SQLite store in db, the clock fixed (crypto_test_set_now),
 * bcrypt at its cheapest cost with one worker so a sign-in costs
 * microseconds, and the settings both share. Each caller then sets its
 * own limits before srv_fixture_open.
 */
#ifndef E2E_SRV_FIXTURE_H
#define E2E_SRV_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "format/crypto.h"
#include "server/httpd.h"

#define SRV_FIXTURE_NOW ((int64_t)1700000000)
#define SRV_FIXTURE_PASSWORD "correct horse battery"
#define SRV_FIXTURE_URL "https://chat.example"

/* The shared settings, the database at db (which must outlive c). */
static inline void
srv_fixture_config(struct server_config *c, const char *db)
{
	server_config_defaults(c);
	c->db = db;
	c->public_url = SRV_FIXTURE_URL;
	c->quiet = 1;
	c->bcrypt_cost = 4;
	c->bcrypt_workers = 1;
	c->linger = 1;
}

/* The server of c, or NULL having said why on stderr (name: the
 * caller's, for the line). */
static inline struct server *
srv_fixture_open(const struct server_config *c, const char *name)
{
	struct server *s = NULL;
	struct report rep = { 0 };

	crypto_test_set_now(SRV_FIXTURE_NOW);
	if (httpd_test_open(c, &s, &rep) != 0 || report_said(&rep)) {
		fprintf(stderr, "%s: %s\n", name, report_message(&rep));
		if (s != NULL)
			httpd_test_close(s);
		s = NULL;
	}
	report_clear(&rep);
	return s;
}

#endif
