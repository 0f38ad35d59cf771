#!/usr/bin/env bats
# The deployment files themselves (issue 12): deploy/nginx.conf,
# deploy/e2e-server@.service and the commands of docs/DEPLOY.md, run
# for real. nginx runs deploy/nginx.conf with only its names, paths and
# ports changed (deploy_render_nginx); the e2e-server instances run the
# unit's own ExecStart line with its specifiers filled in
# (deploy_start_instance). Through them: the client flow over HTTPS to
# two instances, the forwarded client address, the body limit, the TLS
# versions and suites, HTTP/2, and the SQLite backup and restore of
# DEPLOY.md.
#
# One nginx and two instances serve the file (setup_file); each test
# uses its own names. nginx is part of the product: when it is missing
# or does not start, every test fails and says why; none is skipped.

bats_require_minimum_version 1.5.0
load helpers
load server_helpers
load client_helpers
load net_helpers

DEPLOY_DIR="$BATS_TEST_DIRNAME/../../deploy"
DEPLOY_NGINX="$DEPLOY_DIR/nginx.conf"
DEPLOY_UNIT="$DEPLOY_DIR/e2e-server@.service"
DEPLOY_ENV="$DEPLOY_DIR/e2e-server.conf"
DEPLOY_DOC="$BATS_TEST_DIRNAME/../../docs/DEPLOY.md"

# deploy_db DIR: the --db of the instances whose state is in DIR: the
# database "chat" of the file's throwaway PostgreSQL cluster (several
# machines' deployment, docs/DEPLOY.md), made at its first use.
deploy_db() {
	deploy_pg_db chat
}

# deploy_pg_db NAME: the URL of the database NAME of the file's cluster
# ($DEPLOY_PG_URL), created when absent.
deploy_pg_db() {
	"$BATS_TEST_DIRNAME/../pg-db" "$DEPLOY_PG_URL" "$1"
}

# backup_serve DB: an instance of its own on DB (deploy_state in $T, a
# $T/backups folder), alice and bob signed up, three messages "kept N"
# sent to bob; $INSTANCE_PID and $BACKUP_PORT say where it runs.
backup_serve() {
	local i
	deploy_state "$T" "$1"
	mkdir -p "$T/backups"
	BACKUP_PORT=$(free_port)
	export E2E_PUBLIC_URL=http://127.0.0.1:$BACKUP_PORT
	deploy_start_instance "$BACKUP_PORT" "$T/own.log"
	BG_PIDS="$INSTANCE_PID"
	URL=$E2E_PUBLIC_URL
	account "$A"
	account "$B"
	for i in 1 2 3; do
		envelope alice bob "kept $i" > "$T/e$i"
		run_as "$A" e2e-send --to "$B" "$T/e$i" > /dev/null
	done
}

# backup_read_back: after a restore, the instance started again on the
# same port; writes the texts bob receives, verified, one a line, to
# $T/texts; checks that alice's session works (the accounts and the
# secret came back); stops the instance.
backup_read_back() {
	deploy_start_instance "$BACKUP_PORT" "$T/own.log"
	BG_PIDS="$INSTANCE_PID"
	run_as "$B" e2e-recv > "$T/inbox.jsonl" || return 1
	e2e-decrypt -i "$T/bob" --verify "$T/alice.pub" < "$T/inbox.jsonl" \
	    > "$T/plain.jsonl" || return 1
	run_as "$A" e2e-account whoami > /dev/null || return 1
	deploy_stop "$INSTANCE_PID" || { echo "rc $?"; cat "$T/own.log"; return 1; }
	BG_PIDS=
	jq -r '.text | rtrimstr("\n")' "$T/plain.jsonl" > "$T/texts"
}

# deploy_require: fails (never skips) when a tool these tests run is
# missing, naming the package.
deploy_require() {
	[ -x "$NGINX" ] || {
		echo "nginx is not installed (apt-get install nginx-light; make deps)" >&2
		return 1
	}
	command -v sqlite3 > /dev/null || {
		echo "sqlite3 is not installed (make deps)" >&2
		return 1
	}
	command -v pg_dump > /dev/null && command -v psql > /dev/null || {
		echo "PostgreSQL's client programs are not installed (apt-get install postgresql; make deps)" >&2
		return 1
	}
}

# deploy_rsa_cert DIR: DIR/rsa.pem and DIR/rsa.key, an RSA-2048 leaf of
# DIR's CA (make_ca_and_cert) for 127.0.0.1 and localhost. With an RSA
# key a suite without forward secrecy (RSA key exchange) is possible at
# all, so refusing it is nginx.conf's doing, not the key's.
deploy_rsa_cert() {
	local d=$1
	openssl req -new -newkey rsa:2048 -nodes -keyout "$d/rsa.key" \
	    -out "$d/rsa.csr" -subj '/CN=127.0.0.1' 2>/dev/null || return 1
	printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
	    'basicConstraints=CA:FALSE' 'extendedKeyUsage=serverAuth' \
	    > "$d/rsa.ext"
	openssl x509 -req -in "$d/rsa.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -days 2 \
	    -extfile "$d/rsa.ext" -out "$d/rsa.pem" 2>/dev/null || return 1
	chmod 600 "$d/rsa.key"
}

# deploy_subst TEXT FROM TO: TEXT with every FROM replaced by TO; fails
# when FROM is not in TEXT, so a changed example value is noticed.
deploy_subst() {
	[[ "$1" == *"$2"* ]] || {
		echo "deploy: '$2' is not in the file any more" >&2
		return 1
	}
	printf '%s' "${1//"$2"/"$3"}"
}

# deploy_render_nginx OUT HTTPS HTTP UP1 UP2 CERT KEY WEBROOT:
# deploy/nginx.conf into OUT with the example values a sysadmin edits
# replaced: the public ports (on loopback, IPv4 and IPv6), the two
# instances, the certificate and key, certbot's webroot. Nothing else.
deploy_render_nginx() {
	local out=$1 https=$2 http=$3 up1=$4 up2=$5 cert=$6 key=$7 www=$8 c
	c=$(cat "$DEPLOY_NGINX") || return 1
	c=$(deploy_subst "$c" 'listen 443 ' "listen 127.0.0.1:$https ") &&
	c=$(deploy_subst "$c" 'listen [::]:443 ' "listen [::1]:$https ") &&
	c=$(deploy_subst "$c" 'listen 80;' "listen 127.0.0.1:$http;") &&
	c=$(deploy_subst "$c" 'listen [::]:80;' "listen [::1]:$http;") &&
	c=$(deploy_subst "$c" 'server 127.0.0.1:8081;' \
	    "server 127.0.0.1:$up1;") &&
	c=$(deploy_subst "$c" 'server 127.0.0.1:8082;' \
	    "server 127.0.0.1:$up2;") &&
	c=$(deploy_subst "$c" \
	    /etc/letsencrypt/live/chat.example.org/fullchain.pem "$cert") &&
	c=$(deploy_subst "$c" \
	    /etc/letsencrypt/live/chat.example.org/privkey.pem "$key") &&
	c=$(deploy_subst "$c" /var/www/letsencrypt "$www") || return 1
	printf '%s\n' "$c" > "$out"
}

# _deploy_nginx_main: the nginx.conf of the test (start_nginx's CONF):
# the test's paths (_nginx_head), then the rendered site file included
# in the http block, as /etc/nginx/conf.d/ files are.
_deploy_nginx_main() {
	local site=$NGINX_DIR/e2e-chat.conf
	# A rendering that failed leaves a directive nginx refuses.
	deploy_render_nginx "$site" "$HTTPS_PORT" "$HTTP_PORT" "$UP1" "$UP2" \
	    "$CERTS/rsa.pem" "$CERTS/rsa.key" "$NGINX_DIR/www" ||
	    echo "deploy_render_failed;"
	_nginx_head
	printf '\tinclude %s;\n}\n' "$site"
}

# deploy_exec_start PORT: the unit's ExecStart, one argument a line, its
# specifiers and variables filled in as systemd would for instance PORT
# with deploy/e2e-server.conf's variables (E2E_DB, E2E_PUBLIC_URL and
# E2E_OPTIONS from the caller) and the secret credential in $DEPLOY_CRED.
# Fails on anything left unexpanded.
deploy_exec_start() {
	local port=$1 line w words out=()
	line=$(sed -n 's/^ExecStart=//p' "$DEPLOY_UNIT")
	[ -n "$line" ] || {
		echo "deploy: no ExecStart in $DEPLOY_UNIT" >&2
		return 1
	}
	read -r -a words <<< "$line"
	for w in "${words[@]}"; do
		case $w in
		/usr/local/bin/e2e-server) out+=("$E2E_BIN/e2e-server") ;;
		# Unbraced and alone: split into words, as systemd does.
		'$E2E_OPTIONS') read -r -a w <<< "$E2E_OPTIONS"
			out+=("${w[@]}") ;;
		*)
			w=${w//%i/$port}
			w=${w//%d/$DEPLOY_CRED}
			w=${w//'${E2E_DB}'/$E2E_DB}
			w=${w//'${E2E_PUBLIC_URL}'/$E2E_PUBLIC_URL}
			case $w in
			*%* | *'$'*)
				echo "deploy: '$w' left unexpanded" >&2
				return 1 ;;
			esac
			out+=("$w") ;;
		esac
	done
	printf '%s\n' "${out[@]}"
}

# deploy_start_instance PORT LOG: e2e-server as the unit starts instance
# PORT, in the background; its log in LOG. Waits until it accepts. Sets
# INSTANCE_PID.
deploy_start_instance() {
	local port=$1 log=$2 args i
	mapfile -t args < <(deploy_exec_start "$port")
	[ "${#args[@]}" -gt 1 ] || return 1
	"${args[@]}" >> "$log" 2>&1 3>&- &
	INSTANCE_PID=$!
	# Up to 20 s: a loaded machine, a database to create or migrate.
	for i in 1 2 3 4; do
		wait_port "$port" "$INSTANCE_PID" && return 0
		kill -0 "$INSTANCE_PID" 2>/dev/null || break
	done
	echo "the instance on $port did not start; its log:" >&2
	cat "$log" >&2
	return 1
}

# deploy_logged PATTERN N: waits (up to 10 s) until N lines of the two
# instances' logs match PATTERN (grep -E): a request's line is written
# once it has ended, which may be just after its client has the answer.
deploy_logged() {
	local i
	for i in $(seq 1 200); do
		[ "$(cat "$LOG1" "$LOG2" | grep -cE -- "$1")" -lt "$2" ] ||
		    return 0
		sleep 0.05
	done
	echo "the instances logged $(cat "$LOG1" "$LOG2" | grep -cE -- "$1")" \
	    "lines matching '$1', not $2" >&2
	return 1
}

# deploy_stop PID: SIGTERM, as systemctl stop sends, and its exit 0.
deploy_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 1
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid"
}

# deploy_state DIR [DB]: what the unit and /etc/e2e-server give an
# instance, in DIR: the state directory, the secret credential (32
# random bytes, 0600) and deploy/e2e-server.conf's variables, with the
# database DB (default: deploy_db's). Sets DEPLOY_CRED, E2E_DB,
# E2E_OPTIONS; E2E_PUBLIC_URL is the caller's.
deploy_state() {
	local d=$1
	mkdir -p "$d/state" "$d/cred" || return 1
	(umask 077 && openssl rand -out "$d/cred/secret" 32) || return 1
	DEPLOY_CRED=$d/cred
	E2E_DB=${2:-$(deploy_db "$d/state")}
	# Cheap passwords for the tests; many sign-ups from one address.
	E2E_OPTIONS="--bcrypt-cost 4 --signup-limit 100000 --max-wait 60"
	export DEPLOY_CRED E2E_DB E2E_OPTIONS
}

setup_file() {
	local T=$BATS_FILE_TMPDIR
	# The tests count the instances' log lines: one test at a time.
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	clear_proxy_env
	deploy_require || return 1
	mkdir -p "$T/pg"
	DEPLOY_PG_URL=$("$BATS_TEST_DIRNAME/../pg-cluster" start "$T/pg" 3>&-) ||
	    return 1
	export DEPLOY_PG_URL
	export CERTS=$T/certs
	make_ca_and_cert "$CERTS" || return 1
	deploy_rsa_cert "$CERTS" || return 1
	deploy_state "$T" || return 1
	UP1=$(free_port) && UP2=$(free_port) || return 1
	[ "$UP1" != "$UP2" ] || UP2=$(free_port)
	export UP1 UP2
	NGINX_DIR=$T/nginx
	mkdir -p "$NGINX_DIR/www"
	start_nginx "HTTPS_PORT HTTP_PORT" _deploy_nginx_main || return 1
	export NGINX_DIR NGINX_PID HTTPS_PORT HTTP_PORT
	export E2E_PUBLIC_URL="https://127.0.0.1:$HTTPS_PORT"
	export DEPLOY_URL=$E2E_PUBLIC_URL
	deploy_start_instance "$UP1" "$T/instance1.log" || return 1
	export INSTANCE1_PID=$INSTANCE_PID
	deploy_start_instance "$UP2" "$T/instance2.log" || return 1
	export INSTANCE2_PID=$INSTANCE_PID
}

teardown_file() {
	local T=$BATS_FILE_TMPDIR
	stop_nginx
	[ -z "${INSTANCE1_PID:-}" ] || deploy_stop "$INSTANCE1_PID" || true
	[ -z "${INSTANCE2_PID:-}" ] || deploy_stop "$INSTANCE2_PID" || true
	[ ! -d "$T/pg" ] || "$BATS_TEST_DIRNAME/../pg-cluster" remove "$T/pg" ||
	    true
}

setup() {
	common_setup
	fixed_keys
	test_names
	clear_proxy_env
	CA=$CERTS/ca.pem
	LOG1=$BATS_FILE_TMPDIR/instance1.log
	LOG2=$BATS_FILE_TMPDIR/instance2.log
}

teardown() {
	kill_bg
}

# ---- the files ----

@test "deploy/nginx.conf (and DEPLOY.md's onion server) pass nginx -t with only names, paths and ports changed" {
	local d=$T/t
	mkdir -p "$d/tmp"
	deploy_render_nginx "$d/site.conf" 8443 8080 18081 18082 \
	    "$CERTS/rsa.pem" "$CERTS/rsa.key" "$d/www"
	# Only the lines a sysadmin edits differ from the file.
	run diff "$DEPLOY_NGINX" "$d/site.conf"
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | grep '^[<>]' | grep -vE \
	    '^[<>] [[:space:]]*(listen |server 127\.0\.0\.1:|ssl_certificate(_key)? |root )' &&
	    false
	# With DEPLOY.md's server for the onion service beside it.
	sed -n '/^```nginx$/,/^```$/p' "$DEPLOY_DOC" | sed '1d;$d' > "$d/onion.conf"
	grep -q 'listen 127.0.0.1:8079;' "$d/onion.conf"
	NGINX_DIR=$d
	{
		_nginx_head
		printf '\tinclude %s;\n' "$d/site.conf" "$d/onion.conf"
		printf '}\n'
	} > "$d/nginx.conf"
	run "$NGINX" -t -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"test is successful"* ]]
	# Not even a warning (an ignored directive, a deprecated form).
	run ! grep -q '\[warn\]' <<< "$output"
	# The same file with a forged directive fails: nginx -t reads it.
	printf 'no_such_directive on;\n' >> "$d/site.conf"
	run "$NGINX" -t -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
	[ "$status" -ne 0 ]
}

@test "deploy/nginx.conf agrees with e2e-server's defaults: body limit, long-poll bound" {
	local help max_wait read_to
	help=$(e2e-server --help)
	# --max-message: the default is 4M, nginx's limit 4m (both MiB).
	grep -qE -- '--max-message SIZE +largest send body \(default 4M\)' \
	    <<< "$help"
	grep -qE '^	client_max_body_size 4m;' "$DEPLOY_NGINX"
	# proxy_read_timeout above --max-wait, or nginx cuts long-polls.
	max_wait=$(sed -n 's/.*longest long-poll (default \([0-9]*\)).*/\1/p' \
	    <<< "$help")
	read_to=$(sed -n 's/^	*proxy_read_timeout \([0-9]*\)s;/\1/p' \
	    "$DEPLOY_NGINX")
	[ -n "$max_wait" ] && [ -n "$read_to" ]
	[ "$read_to" -gt "$max_wait" ]
	# X-Forwarded-For replaced, never appended.
	grep -qE '^	*proxy_set_header X-Forwarded-For \$remote_addr;' \
	    "$DEPLOY_NGINX"
	run ! grep -q 'proxy_add_x_forwarded_for' "$DEPLOY_NGINX"
}

@test "deploy/e2e-server@.service: systemd-analyze verify is silent; the sandbox is there" {
	local d=$T/units
	mkdir -p "$d"
	command -v systemd-analyze > /dev/null || {
		echo "systemd-analyze is not installed (apt-get install systemd; make deps)" >&2
		false
	}
	# The binary's path is the one thing changed: verify wants it to be
	# there. An instance, as systemctl starts them.
	sed "s|/usr/local/bin/e2e-server|$E2E_BIN/e2e-server|" "$DEPLOY_UNIT" \
	    > "$d/e2e-server@8081.service"
	run systemd-analyze verify "$d/e2e-server@8081.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# It does read the file: an unknown key is reported.
	printf '[Service]\nNoSuchKey=1\n' >> "$d/e2e-server@8081.service"
	run systemd-analyze verify "$d/e2e-server@8081.service"
	[[ "$output" == *"NoSuchKey"* ]]
	# The keys the deployment relies on.
	local k
	for k in 'DynamicUser=yes' 'User=e2e-server' \
	    'StateDirectory=e2e-server' 'ProtectSystem=strict' \
	    'ProtectHome=yes' 'PrivateTmp=yes' 'NoNewPrivileges=yes' \
	    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	    'SystemCallFilter=@system-service' 'Restart=on-failure' \
	    'CapabilityBoundingSet=' \
	    'LoadCredential=secret:/etc/e2e-server/secret' \
	    'EnvironmentFile=/etc/e2e-server/e2e-server.conf'; do
		grep -qxF "$k" "$DEPLOY_UNIT" || {
			echo "missing: $k" >&2
			false
		}
	done
	# Every instance: loopback, its port, the shared secret, nginx
	# trusted.
	run deploy_exec_start 8081
	[ "$status" -eq 0 ]
	[[ "$output" == *$'--listen\n127.0.0.1:8081\n'* ]]
	[[ "$output" == *$'--secret-file\n'"$DEPLOY_CRED/secret"$'\n'* ]]
	[[ "$output" == *$'--trusted-proxy\n127.0.0.1\n'* ]]
	# The example settings file holds what the unit reads.
	grep -qE '^E2E_DB=/var/lib/e2e-server/chat\.db$' "$DEPLOY_ENV"
	grep -qE '^E2E_PUBLIC_URL=https://' "$DEPLOY_ENV"
	grep -qE '^E2E_OPTIONS=' "$DEPLOY_ENV"
}

# ---- through nginx ----

@test "https through deploy/nginx.conf to two instances: signup, keys, send, recv, decrypt (--cacert)" {
	local before1 before2
	before1=$(wc -l < "$LOG1")
	before2=$(wc -l < "$LOG2")
	as_user "$B"
	run -0 e2e-account --server "$DEPLOY_URL" --cacert "$CA" \
	    signup "$B" --password-file "$T/$B.pw" --key "$T/bob"
	as_user "$A"
	run -0 e2e-account --server "$DEPLOY_URL" --cacert "$CA" \
	    signup "$A" --password-file "$T/$A.pw" --key "$T/alice"
	[ "$(session_field server)" = "$DEPLOY_URL" ]
	# bob's key, proved for the public URL, pinned on first use.
	run -0 e2e-keys --cacert "$CA" fetch "$B"
	local i
	for i in 1 2 3 4; do
		printf 'message %s through nginx' "$i" |
		    e2e-encrypt -r "$B" -s "$T/alice" > "$T/m$i.jwe"
		run -0 e2e-send --cacert "$CA" --to "$B" "$T/m$i.jwe"
	done
	as_user "$B"
	run -0 e2e-keys --cacert "$CA" fetch "$A"
	e2e-recv --cacert "$CA" > "$T/inbox.jsonl"
	[ "$(wc -l < "$T/inbox.jsonl")" -eq 4 ]
	run -0 e2e-decrypt -i "$T/bob" --verify "$T/alice.pub" \
	    < "$T/inbox.jsonl"
	printf '%s\n' "$output" > "$T/plain.jsonl"
	run -0 jq -r '[.from, .verified, .text] | @tsv' "$T/plain.jsonl"
	[ "$output" = "$(for i in 1 2 3 4; do
		printf '%s\ttrue\tmessage %s through nginx\n' "$A" "$i"; done)" ]
	# Acknowledged: nothing is left.
	run -0 e2e-recv --cacert "$CA"
	[ -z "$output" ]
	# Both instances served part of it (nginx takes them in turn).
	[ "$(wc -l < "$LOG1")" -gt "$before1" ]
	[ "$(wc -l < "$LOG2")" -gt "$before2" ]
	# Without --cacert the certificate is refused.
	run e2e-recv
	[ "$status" -eq 69 ]
}

@test "X-Forwarded-For: a client's forged header does not reach e2e-server as its address" {
	local forged=203.0.113.77 i
	# Straight to an instance, from its trusted proxy's address, the
	# header is believed: the check below can fail.
	# (The request log names the client, the method and the path: a
	# path of its own, answered 404, finds the test's lines.)
	run -0 curl -sS -o /dev/null -H "X-Forwarded-For: $forged" \
	    "http://127.0.0.1:$UP1/xff-direct-$N"
	deploy_logged " /xff-direct-$N " 1
	grep -q "^$forged GET /xff-direct-$N 404" "$LOG1"
	# Through nginx, each instance logs the address nginx saw.
	for i in 1 2 3 4; do
		run -0 curl -sS --cacert "$CA" -o /dev/null \
		    -H "X-Forwarded-For: $forged" -H "X-Real-IP: $forged" \
		    "$DEPLOY_URL/xff-via-$N"
	done
	deploy_logged " /xff-via-$N " 4
	run -0 grep -h " /xff-via-$N " "$LOG1" "$LOG2"
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" != *"$forged"* ]]
	[ "$(grep -c '^127\.0\.0\.1 GET ' <<< "$output")" -eq 4 ]
}

@test "body limit: nginx refuses a body over e2e-server's --max-message (4 MiB) with 413; one at it passes" {
	URL=$DEPLOY_URL
	export CURL_CA_BUNDLE=$CA
	api_user "$A" > /dev/null
	local limit=$((4 * 1024 * 1024))
	head -c "$limit" /dev/zero | tr '\0' 'x' > "$T/at"
	head -c "$((limit + 1))" /dev/zero | tr '\0' 'x' > "$T/over"
	# One byte over: nginx's own 413, and no instance sees it.
	run -0 curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $token" -H "$JSON" \
	    --data-binary @"$T/over" "$DEPLOY_URL/messages"
	[ "$output" = 413 ]
	grep -q nginx "$T/body"
	run ! grep -q 'POST /messages 413 ' "$LOG1" "$LOG2"
	# At the limit: passed on, and e2e-server answers (not JSON: 400).
	run -0 curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $token" -H "$JSON" \
	    --data-binary @"$T/at" "$DEPLOY_URL/messages"
	[ "$output" = 400 ]
	grep -q '"error"' "$T/body"
	deploy_logged '^127\.0\.0\.1 POST /messages 400 ' 1
}

@test "TLS: 1.2 with ECDHE and 1.3 only; TLS 1.1 and a suite without forward secrecy refused; HTTP/2; HSTS" {
	local host=127.0.0.1:$HTTPS_PORT
	# Our client allows TLS 1.1 (security level 0): the refusal is the
	# server's alert.
	run openssl s_client -connect "$host" -tls1_1 \
	    -cipher 'DEFAULT:@SECLEVEL=0' < /dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"alert protocol version"* ]] || {
		echo "$output"
		false
	}
	# RSA key exchange: the key is RSA, so only the suite list stops it.
	run openssl s_client -connect "$host" -tls1_2 \
	    -cipher AES128-SHA256 < /dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *"handshake failure"* ]] || {
		echo "$output"
		false
	}
	# Finite-field DHE is not offered either.
	run openssl s_client -connect "$host" -tls1_2 \
	    -cipher DHE-RSA-AES128-GCM-SHA256 < /dev/null
	[ "$status" -ne 0 ]
	# ECDHE on TLS 1.2, and TLS 1.3, verified with the CA.
	run -0 openssl s_client -connect "$host" -tls1_2 -CAfile "$CA" \
	    -verify_return_error < /dev/null
	[[ "$output" == *"Protocol  : TLSv1.2"* ]]
	[[ "$output" == *"Cipher    : ECDHE-RSA-AES"*"-GCM-SHA"* ]] || {
		echo "$output"
		false
	}
	run -0 openssl s_client -connect "$host" -tls1_3 -CAfile "$CA" \
	    -verify_return_error < /dev/null
	[[ "$output" == *"New, TLSv1.3, Cipher is TLS_"* ]]
	# HTTP/2, and HSTS on e2e-server's answers.
	run -0 curl -sS --cacert "$CA" --http2 -o /dev/null -D "$T/hdr" \
	    -w '%{http_version}' "$DEPLOY_URL/healthz"
	[ "$output" = 2 ]
	grep -qi '^strict-transport-security: max-age=63072000' "$T/hdr"
	# /metrics is not served to the world.
	run -0 curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' \
	    "$DEPLOY_URL/metrics"
	[ "$output" = 403 ]
	# Plain http: a redirect to https.
	run -0 curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' \
	    -H 'Host: chat.example.org' "http://127.0.0.1:$HTTP_PORT/messages"
	[ "$output" = "301 https://chat.example.org/messages" ]
}

@test "long-poll through nginx: a wait runs its time and ends empty, neither cut nor held" {
	as_user "$B"
	run -0 e2e-account --server "$DEPLOY_URL" --cacert "$CA" \
	    signup "$B" --password-file "$T/$B.pw"
	as_user "$A"
	run -0 e2e-account --server "$DEPLOY_URL" --cacert "$CA" \
	    signup "$A" --password-file "$T/$A.pw"
	# A wait with nothing coming ends after its seconds, as a 200 with
	# no messages: nginx neither cuts nor buffers it.
	local t0 t1
	t0=$(now_ms)
	E2E_HOME=$(home_of "$B") run -0 e2e-recv --cacert "$CA" --wait 3
	t1=$(now_ms)
	[ -z "$output" ]
	[ $((t1 - t0)) -ge 2500 ]
	[ $((t1 - t0)) -lt 30000 ]
}

# ---- docs/DEPLOY.md ----

# deploy_doc_command PREFIX URL: the command of docs/DEPLOY.md that
# starts with PREFIX, its continuation lines joined, with the machine's
# paths replaced by the test's and the example database's URL by URL.
deploy_doc_command() {
	local cmd
	cmd=$(awk -v p="$1" 'index($0, p) == 1 { on = 1 }
	    on { line = $0; more = sub(/\\$/, "", line); printf "%s", line
	        if (!more) { print ""; exit } }' "$DEPLOY_DOC")
	[ -n "$cmd" ] || {
		echo "docs/DEPLOY.md has no command '$1'" >&2
		return 1
	}
	cmd=${cmd//postgresql:\/\/e2e@db.example.org\/e2e/"'$2'"}
	cmd=${cmd//\/var\/backups\/e2e-server/$T/backups}
	printf '%s\n' "$cmd"
}

# deploy_doc_line PREFIX: the one line of docs/DEPLOY.md starting with
# PREFIX, with the machine's paths replaced by the test's.
deploy_doc_line() {
	local line
	line=$(grep -F -- "$1" "$DEPLOY_DOC") || {
		echo "docs/DEPLOY.md has no line '$1'" >&2
		return 1
	}
	[ "$(printf '%s\n' "$line" | wc -l)" -eq 1 ] || return 1
	line=${line//\/var\/lib\/e2e-server/$T/state}
	line=${line//\/var\/backups\/e2e-server/$T/backups}
	printf '%s\n' "$line"
}

@test "SQLite backup and restore as docs/DEPLOY.md says: online backup, stop, restore, start; messages intact" {
	local backup restore check pid
	backup=$(deploy_doc_line 'sqlite3 /var/lib/e2e-server/chat.db ".backup')
	restore=$(deploy_doc_line 'sqlite3 /var/lib/e2e-server/chat.db ".restore')
	check=$(deploy_doc_line 'sqlite3 /var/backups/e2e-server/chat.db "PRAGMA integrity_check"')
	# An instance of its own (its own state, secret and SQLite
	# database, where DEPLOY.md puts it), whatever deploy_db says.
	backup_serve "$T/state/chat.db"
	pid=$INSTANCE_PID
	# The online backup, while the instance runs (and writes: one more
	# send at the same time).
	envelope alice bob 'sent during the backup' > "$T/during"
	run_as "$A" e2e-send --to "$B" "$T/during" > /dev/null &
	local sender=$!
	(cd "$T" && eval "$backup")
	wait "$sender"
	run -0 eval "$check"
	[ "$output" = ok ]
	# After the backup: lost by the restore, as it should be.
	envelope alice bob 'after the backup' > "$T/after"
	run_as "$A" e2e-send --to "$B" "$T/after" > /dev/null
	deploy_stop "$pid" || { cat "$T/own.log"; false; }
	BG_PIDS=
	(cd "$T" && eval "$restore")
	backup_read_back
	run -0 cat "$T/texts"
	# The three sent before, in order; the one in flight maybe; never
	# the one after.
	[[ "$output" == $'kept 1\nkept 2\nkept 3'* ]]
	[[ "$output" != *'after the backup'* ]]
}

@test "PostgreSQL backup and restore as docs/DEPLOY.md says: pg_dump while serving, stop, pg_restore --clean, start; messages intact" {
	local dump restore url pid
	url=$(deploy_pg_db backup_test)
	dump=$(deploy_doc_command 'pg_dump ' "$url")
	restore=$(deploy_doc_command 'pg_restore ' "$url")
	[[ "$dump" == *"'$url'"* ]] && [[ "$restore" == *"'$url'"* ]]
	backup_serve "$url"
	pid=$INSTANCE_PID
	# The dump, while the instance serves.
	(cd "$T" && eval "$dump")
	[ -s "$T/backups/e2e.dump" ]
	envelope alice bob 'after the backup' > "$T/after"
	run_as "$A" e2e-send --to "$B" "$T/after" > /dev/null
	deploy_stop "$pid" || { cat "$T/own.log"; false; }
	BG_PIDS=
	(cd "$T" && eval "$restore")
	backup_read_back
	run -0 cat "$T/texts"
	[ "$output" = $'kept 1\nkept 2\nkept 3' ]
}
