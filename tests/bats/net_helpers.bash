# Network fixtures (issue 4, issue 9): a throwaway CA and certificates,
# nginx in front of e2e-server (TLS for the client tools, or a trusted
# proxy for the server), microsocks as a SOCKS5 proxy, and public-key
# pins. Load after helpers.bash and server_helpers.bash.
#
# Everything runs as the test user with every path in a temporary
# folder; nothing is daemonized, so teardown can stop it by its pid.

NGINX=${NGINX:-/usr/sbin/nginx}
MICROSOCKS=${MICROSOCKS:-/usr/bin/microsocks}

# make_ca_and_cert DIR: in DIR (created), EC P-256 keys and
#   ca.pem, ca.key          a throwaway CA
#   server.pem, server.key  signed by it, for IP:127.0.0.1 and DNS:localhost
#   wrongname.pem, .key     signed by it, for DNS:wrong.example only
#   other.pem, other.key    an unrelated self-signed certificate, also for
#                           127.0.0.1 and localhost (so only trust differs)
make_ca_and_cert() {
	local d=$1 ext
	mkdir -p "$d" || return 1
	ext="$d/ext.cnf"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
	    -subj '/CN=e2e-chat test CA' \
	    -addext 'basicConstraints=critical,CA:TRUE' \
	    -addext 'keyUsage=critical,keyCertSign,cRLSign' \
	    2>/dev/null || return 1
	_leaf_cert "$d" server 'IP:127.0.0.1,DNS:localhost' 127.0.0.1 || return 1
	_leaf_cert "$d" wrongname 'DNS:wrong.example' wrong.example || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$d/other.key" -out "$d/other.pem" -days 2 \
	    -subj '/CN=127.0.0.1' \
	    -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
	    2>/dev/null || return 1
	chmod 600 "$d"/*.key
}

# _leaf_cert DIR NAME SAN CN: NAME.key and NAME.pem signed by DIR/ca.
_leaf_cert() {
	local d=$1 n=$2 san=$3 cn=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=$cn" \
	    2>/dev/null || return 1
	printf '%s\n' "subjectAltName=$san" 'basicConstraints=CA:FALSE' \
	    'keyUsage=critical,digitalSignature' \
	    'extendedKeyUsage=serverAuth' > "$d/$n.ext"
	openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -days 2 \
	    -extfile "$d/$n.ext" -out "$d/$n.pem" 2>/dev/null
}

# cert_pin CERT: prints the libcurl pin of CERT's public key:
# sha256// + base64 of the SHA-256 of its DER SubjectPublicKeyInfo.
cert_pin() {
	local b
	b=$(openssl x509 -in "$1" -noout -pubkey |
	    openssl pkey -pubin -outform der |
	    openssl dgst -sha256 -binary | base64) || return 1
	printf 'sha256//%s\n' "$b"
}

# net_tools_missing [nginx] [microsocks]: for setup_file, where a skip
# does not work: names in NET_SKIP (exported) the first tool not
# installed, for net_skip_if_missing in setup() to skip each test.
net_tools_missing() {
	local t
	NET_SKIP=
	for t in "$@"; do
		case $t in
		nginx) [ -x "$NGINX" ] ||
		    NET_SKIP="nginx is not installed (apt-get install nginx-light)" ;;
		microsocks) [ -x "$MICROSOCKS" ] ||
		    NET_SKIP="microsocks is not installed (apt-get install microsocks)" ;;
		esac
		[ -z "$NET_SKIP" ] || break
	done
	export NET_SKIP
	[ -n "$NET_SKIP" ]
}

net_skip_if_missing() {
	[ -z "${NET_SKIP:-}" ] || skip "$NET_SKIP"
}

# start_nginx PORTVARS CONF [ARGS...]: nginx, in the foreground of a
# background job, working in $NGINX_DIR (default $T/nginx), with the
# configuration the function CONF prints (given ARGS) once each variable
# named in PORTVARS (space-separated) holds a free 127.0.0.1 port. Waits
# until every port accepts; a port taken in between makes it try others.
# Sets NGINX_PID. Skips the test when nginx is not installed.
start_nginx() {
	local vars=$1 conf=$2 try v p ok
	shift 2
	[ -x "$NGINX" ] || skip "nginx is not installed (apt-get install nginx-light)"
	NGINX_DIR=${NGINX_DIR:-$T/nginx}
	mkdir -p "$NGINX_DIR/tmp" || return 1
	for try in 1 2 3 4 5; do
		local ports=()
		for v in $vars; do
			p=$(free_port) || return 1
			printf -v "$v" '%s' "$p"
			ports+=("$p")
		done
		[ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" -eq \
		    "${#ports[@]}" ] || continue
		"$conf" "$@" > "$NGINX_DIR/nginx.conf"
		: > "$NGINX_DIR/error.log"
		# fd 3 closed: bats waits for whoever holds it open.
		"$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		    -e "$NGINX_DIR/error.log" \
		    > "$NGINX_DIR/stdout" 2>> "$NGINX_DIR/error.log" 3>&- &
		NGINX_PID=$!
		ok=1
		for p in "${ports[@]}"; do
			wait_port "$p" "$NGINX_PID" || { ok=0; break; }
		done
		# nginx keeps retrying a port it cannot bind for a while: one
		# that accepts may be another program's (seen with several
		# suites on one machine), and then nginx said so.
		! grep -q 'Address already in use' "$NGINX_DIR/error.log" ||
		    ok=0
		[ "$ok" = 0 ] || return 0
		stop_nginx
		# A port taken in between: try others. Anything else: give up.
		grep -q 'Address already in use' "$NGINX_DIR/error.log" ||
		    break
	done
	echo "nginx did not start; its log:" >&2
	cat "$NGINX_DIR/error.log" >&2
	return 1
}

# stop_nginx: stops nginx (SIGQUIT would wait for long-polls; TERM is
# the fast shutdown) and reaps it.
stop_nginx() {
	[ -n "${NGINX_PID:-}" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}

# _nginx_head: what every configuration starts with, every path under
# $NGINX_DIR; the http block stays open. Bodies up to 16 MiB.
_nginx_head() {
	local dir=$NGINX_DIR user=''
	# Root's workers would otherwise become nobody, who may not enter $T.
	[ "$(id -u)" != 0 ] || user="user $(id -un) $(id -gn);"
	cat <<EOF
$user
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	client_max_body_size 16m;
EOF
}

# start_tls_proxy CERTDIR [BACKEND_URL]: nginx terminating TLS on a free
# 127.0.0.1 port with CERTDIR/server.pem and passing everything to
# BACKEND_URL (default $URL from start_server). A second port serves
# CERTDIR/wrongname.pem. Sets NGINX_PID, NGINX_DIR, TLS_PORT, TLS_URL
# (https://127.0.0.1:PORT), TLS_URL_LOCALHOST (https://localhost:PORT),
# WRONGNAME_URL. Under /moved/, the TLS port answers every request with
# a 307 to the same path on BACKEND_URL.
start_tls_proxy() {
	local certs=$1 backend=${2:-$URL}
	[ -n "$backend" ] || {
		echo "start_tls_proxy: no backend (start_server first)" >&2
		return 1
	}
	start_nginx "TLS_PORT WRONGNAME_PORT" _nginx_tls_conf "$certs" \
	    "$backend" || return 1
	TLS_URL="https://127.0.0.1:$TLS_PORT"
	TLS_URL_LOCALHOST="https://localhost:$TLS_PORT"
	WRONGNAME_URL="https://127.0.0.1:$WRONGNAME_PORT"
}

# _nginx_tls_conf CERTDIR BACKEND: long-polls need no buffering and a
# long read timeout; messages go up to 4 MiB (plus the JSON around
# them).
_nginx_tls_conf() {
	local certs=$1 backend=$2
	_nginx_head
	cat <<EOF
	ssl_protocols TLSv1.2 TLSv1.3;
	server {
		listen 127.0.0.1:$TLS_PORT ssl;
		server_name localhost 127.0.0.1;
		ssl_certificate $certs/server.pem;
		ssl_certificate_key $certs/server.key;
		# A redirect to the plain backend, for the tests that the
		# client never follows one (--server \$TLS_URL/moved).
		location ~ ^/moved(/.*)\$ {
			return 307 $backend\$1\$is_args\$args;
		}
		location / {
			proxy_pass $backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_request_buffering off;
			proxy_read_timeout 600s;
			proxy_send_timeout 600s;
		}
	}
	server {
		listen 127.0.0.1:$WRONGNAME_PORT ssl;
		ssl_certificate $certs/wrongname.pem;
		ssl_certificate_key $certs/wrongname.key;
		location / {
			proxy_pass $backend;
		}
	}
}
EOF
}

# start_tls_server: in setup_file, the certificates of make_ca_and_cert
# in $CERTS, a server for the whole file and nginx in front of it
# (start_tls_proxy), all exported for the tests.
start_tls_server() {
	local T=$BATS_FILE_TMPDIR
	export CERTS=$T/certs
	make_ca_and_cert "$CERTS" || return 1
	start_server --quiet --signup-limit 10000 3>&- || return 1
	start_tls_proxy "$CERTS" || return 1
	export SERVER_PID PORT URL NGINX_PID TLS_PORT TLS_URL \
	    TLS_URL_LOCALHOST WRONGNAME_URL
}

# tls_test_setup: in setup, what each test of a file with a TLS server
# starts with: skipped when a tool is missing, its folder and the
# committed keys, no proxy from the environment, CA (the throwaway CA's
# certificate) and the names of test_names.
tls_test_setup() {
	net_skip_if_missing
	common_setup
	fixed_keys
	clear_proxy_env
	# shellcheck disable=SC2034  # for the .bats files
	CA=$CERTS/ca.pem
	test_names
}

# stop_tls_server: in teardown_file, stops nginx and the server.
stop_tls_server() {
	local T=$BATS_FILE_TMPDIR
	stop_nginx
	stop_server
}

# start_socks [USER PASSWORD]: microsocks on a free 127.0.0.1 port, with
# user/password authentication when given. Its log (one line per
# connection: "client[N] ADDR: connected to HOST:PORT") goes to
# $SOCKS_LOG. With SOCKS_BIND set, its connections leave from that
# address (microsocks -b). Sets SOCKS_PID, SOCKS_PORT, SOCKS_LOG.
start_socks() {
	local auth=() bind=() try
	[ -x "$MICROSOCKS" ] ||
	    skip "microsocks is not installed (apt-get install microsocks)"
	[ $# -lt 2 ] || auth=(-u "$1" -P "$2")
	[ -z "${SOCKS_BIND:-}" ] || bind=(-b "$SOCKS_BIND")
	SOCKS_LOG=${SOCKS_LOG:-$T/socks.log}
	for try in 1 2 3 4 5; do
		SOCKS_PORT=$(free_port) || return 1
		"$MICROSOCKS" -i 127.0.0.1 -p "$SOCKS_PORT" "${auth[@]}" "${bind[@]}" \
		    >> "$SOCKS_LOG" 2>&1 3>&- &
		SOCKS_PID=$!
		wait_port "$SOCKS_PORT" "$SOCKS_PID" && return 0
		stop_socks
	done
	echo "microsocks did not start; its log:" >&2
	cat "$SOCKS_LOG" >&2
	return 1
}

# stop_socks: kills microsocks and waits until its port is closed.
stop_socks() {
	[ -n "${SOCKS_PID:-}" ] || return 0
	kill -TERM "$SOCKS_PID" 2>/dev/null || true
	wait "$SOCKS_PID" 2>/dev/null || true
	SOCKS_PID=
}

# socks_seen HOST:PORT: how many connections microsocks made to HOST:PORT.
socks_seen() {
	grep -cF "connected to $1" "$SOCKS_LOG" 2>/dev/null || true
}

# clear_proxy_env: no proxy from the caller's environment (libcurl reads
# these); the tests set them where they mean to.
clear_proxy_env() {
	unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY \
	    no_proxy NO_PROXY HTTP_PROXY
}
