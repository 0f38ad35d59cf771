/*
 * checknames.c - e2e-server --check-names: the existing accounts whose
 * names people cannot tell apart (see server.h). Sign-up refuses such a
 * name from schema 3 on; names taken before are kept, and listed here
 * for the operator, never refused at start-up.
 */
#include "server/server.h"
#include "base/err.h"
#include "server/log.h"
#include "server/store.h"

#include <unistd.h>

struct groups {
	size_t n;
	int failed;
};

static void
print_group(void *arg, const char *const *names, size_t n)
{
	struct groups *g = arg;

	if (log_names(names, n) != 0)
		g->failed = 1;
	g->n++;
}

int
server_check_names(const struct server_config *c)
{
	struct store st;
	struct groups g = { 0, 0 };
	struct report rep = { 0 };
	int rc;

	/* A report on a database that is there: a mistyped path makes no
	 * new one. */
	if (store_backend_for(c->db) == &store_sqlite &&
	    access(c->db, F_OK) != 0) {
		log_errno("cannot open the database %s", c->db);
		return E2E_EX_NOINPUT;
	}
	if (store_open(&st, store_backend_for(c->db), c->db, &rep) != 0) {
		log_report(&rep);
		return rep.code != 0 ? rep.code : E2E_EX_CANTCREAT;
	}
	rc = st.be->name_groups(&st, print_group, &g) == STORE_OK ? 0 :
	    E2E_EX_SOFTWARE;
	store_close(&st);
	if (rc == 0 && (g.failed || log_flush() != 0)) {
		log_errno("cannot write to standard output");
		rc = E2E_EX_IOERR;
	}
	if (rc == 0)
		log_note("%zu group%s of names that look alike", g.n,
		    g.n == 1 ? "" : "s");
	return rc;
}
