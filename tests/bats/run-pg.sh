#!/usr/bin/env bash
# make check-pg: the server's suite again, against PostgreSQL. One
# throwaway cluster for the run (tests/pg-cluster); each server a test
# starts gets a database of its own in it (db_url in server_helpers.bash).
# Then pg_store.bats, alone: it stops and starts the cluster. When
# PostgreSQL cannot start, this fails and says why: nothing is skipped.
set -o pipefail
cd "$(dirname "$0")" || exit 1
dir=$(mktemp -d "${TMPDIR:-/tmp}/e2e-check-pg.XXXXXX") || exit 1
trap '../pg-cluster remove "$dir"; rm -rf "$dir"' EXIT
start=$(date +%s)
if ! E2E_TEST_PG_URL=$(../pg-cluster start "$dir" 3>&-); then
	echo "check-pg: PostgreSQL did not start (see above): the tests" \
	    "against PostgreSQL cannot run" >&2
	exit 1
fi
E2E_TEST_PG_DIR=$dir
export E2E_TEST_PG_URL E2E_TEST_PG_DIR
echo "check-pg: the server's suite against $E2E_TEST_PG_URL"
rc=0
# The store's conformance suite (tests/unit/test_srv_store.c) on an empty
# database of its own, when make names the test's binary.
if [ -n "${E2E_STORE_TEST:-}" ]; then
	E2E_TEST_STORE_PG_URL=$(../pg-db "$E2E_TEST_PG_URL" conformance) &&
	    E2E_TEST_STORE_PG_URL=$E2E_TEST_STORE_PG_URL "$E2E_STORE_TEST" ||
	    rc=1
fi
# E2E_PG_SUITE=store (make sanitize): the store's own tests only, the
# conformance suite above and pg_store.bats below; the server's whole
# suite on PostgreSQL runs once, in make check.
if [ "${E2E_PG_SUITE:-full}" != store ]; then
	./run.sh server_*.bats identity.bats compat.bats client_flow.bats ||
	    rc=1
fi
BATS_JOBS='' ./run.sh pg_store.bats || rc=1
echo "check-pg: $(($(date +%s) - start)) s"
exit "$rc"
