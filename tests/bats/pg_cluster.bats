#!/usr/bin/env bats
# tests/pg-cluster, the throwaway PostgreSQL cluster that the PostgreSQL
# store's tests and the bench start (issue 12): it starts as an
# unprivileged user even when the tests run as root, serves on a socket of
# its own, keeps its data across a stop and a start, and leaves nothing
# behind. When PostgreSQL is missing these tests fail with the reason: the
# dependency step installs it.
bats_require_minimum_version 1.5.0
load helpers

PG_CLUSTER="$BATS_TEST_DIRNAME/../pg-cluster"

setup() { common_setup; }
teardown() { "$PG_CLUSTER" remove "$T" || true; }

@test "pg-cluster: starts, answers on its socket, keeps data over a stop and a start, and is removed whole" {
	run -0 "$PG_CLUSTER" start "$T"
	url=$output
	[[ "$url" == "postgresql://e2e@/e2e?host=/"* ]]
	home=${url#*host=}
	run -0 psql -X -q -At "$url" -c "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept'); SELECT current_user, current_database()"
	assert_output "e2e|e2e"
	# Only the socket: no TCP listener.
	run -0 psql -X -At "$url" -c "SHOW listen_addresses"
	assert_output ""
	if [ "$(id -u)" -eq 0 ]; then
		# initdb and postgres refuse root: the cluster runs as nobody.
		run -0 stat -c %U "$home/data"
		assert_output nobody
	fi
	run -0 "$PG_CLUSTER" url "$T"
	assert_output "$url"

	run -0 "$PG_CLUSTER" stop "$T"
	run ! psql -X -At "$url" -c "SELECT 1"
	run -0 "$PG_CLUSTER" start-again "$T"
	run -0 psql -X -At "$url" -c "SELECT v FROM t"
	assert_output kept

	run -0 "$PG_CLUSTER" remove "$T"
	assert_not_exist "$home"
	assert_not_exist "$T/pg-cluster.env"
}

@test "pg-cluster: misuse says why (exit 1): a second cluster in one folder, no cluster, no server binaries" {
	run -1 "$PG_CLUSTER" url "$T"
	assert_output "pg-cluster: no cluster in $T"
	run -1 "$PG_CLUSTER" start
	assert_output --partial "usage: pg-cluster"
	run -0 "$PG_CLUSTER" start "$T"
	run -1 "$PG_CLUSTER" start "$T"
	assert_output "pg-cluster: a cluster already lives in $T"
	mkdir "$T/none" "$T/other"
	PG_BIN="$T/none" run -1 "$PG_CLUSTER" start "$T/other"
	assert_output "pg-cluster: no PostgreSQL server in PG_BIN=$T/none"
	assert_not_exist "$T/other/pg-cluster.env"
	run -1 "$PG_CLUSTER" start "$T/missing"
	assert_output "pg-cluster: no folder $T/missing"
}
