# Network fixtures for the client tools (issue 4): a throwaway CA and
# certificates, nginx as a TLS front for e2e-server, microsocks as a
# SOCKS5 proxy, and public-key pins. Load after helpers.bash and
# server_helpers.bash.
#
# Everything runs as the test user with every path in a temporary
# folder; nothing is daemonized, so teardown can stop it by its pid.

NGINX=${NGINX:-/usr/sbin/nginx}
MICROSOCKS=${MICROSOCKS:-/usr/bin/microsocks}

# free_port: prints a loopback TCP port that was free a moment ago (the
# callers retry when another process takes it in between).
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# port_open PORT: true when something accepts on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID: polls every 50 ms, up to 5 s, until PORT accepts;
# fails early when PID has exited.
wait_port() {
	local i
	for i in $(seq 1 100); do
		port_open "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

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

# start_tls_proxy CERTDIR [BACKEND_URL]: nginx, in the foreground of a
# background job, terminating TLS on a free 127.0.0.1 port with
# CERTDIR/server.pem and passing everything to BACKEND_URL (default $URL
# from start_server). A second port serves CERTDIR/wrongname.pem.
# Sets NGINX_PID, NGINX_DIR, TLS_PORT, TLS_URL (https://127.0.0.1:PORT),
# TLS_URL_LOCALHOST (https://localhost:PORT), WRONGNAME_URL. Under
# /moved/, the TLS port answers every request with a 307 to the same
# path on BACKEND_URL.
# The working folder is $NGINX_DIR (default $T/nginx).
start_tls_proxy() {
	local certs=$1 backend=${2:-$URL} try
	[ -x "$NGINX" ] || skip "nginx is not installed (apt-get install nginx-light)"
	[ -n "$backend" ] || {
		echo "start_tls_proxy: no backend (start_server first)" >&2
		return 1
	}
	NGINX_DIR=${NGINX_DIR:-$T/nginx}
	mkdir -p "$NGINX_DIR/tmp" || return 1
	for try in 1 2 3 4 5; do
		TLS_PORT=$(free_port) && WRONGNAME_PORT=$(free_port) ||
		    return 1
		[ "$TLS_PORT" != "$WRONGNAME_PORT" ] || continue
		_nginx_conf "$certs" "$backend" > "$NGINX_DIR/nginx.conf"
		# fd 3 closed: bats waits for whoever holds it open.
		"$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		    -e "$NGINX_DIR/error.log" \
		    > "$NGINX_DIR/stdout" 2>> "$NGINX_DIR/error.log" 3>&- &
		NGINX_PID=$!
		if wait_port "$TLS_PORT" "$NGINX_PID" &&
		    wait_port "$WRONGNAME_PORT" "$NGINX_PID"; then
			TLS_URL="https://127.0.0.1:$TLS_PORT"
			TLS_URL_LOCALHOST="https://localhost:$TLS_PORT"
			WRONGNAME_URL="https://127.0.0.1:$WRONGNAME_PORT"
			return 0
		fi
		stop_tls_proxy
		# A port taken in between: try others. Anything else: give up.
		grep -q 'Address already in use' "$NGINX_DIR/error.log" ||
		    break
	done
	echo "nginx did not start; its log:" >&2
	cat "$NGINX_DIR/error.log" >&2
	return 1
}

# _nginx_conf CERTDIR BACKEND: the configuration, every path under
# $NGINX_DIR. Long-polls need no buffering and a long read timeout;
# messages go up to 4 MiB (plus the JSON around them).
_nginx_conf() {
	local certs=$1 backend=$2 dir=$NGINX_DIR user=''
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

# stop_tls_proxy: stops nginx (SIGQUIT would wait for long-polls; TERM
# is the fast shutdown) and reaps it.
stop_tls_proxy() {
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

# start_socks [USER PASSWORD]: microsocks on a free 127.0.0.1 port, with
# user/password authentication when given. Its log (one line per
# connection: "client[N] ADDR: connected to HOST:PORT") goes to
# $SOCKS_LOG. Sets SOCKS_PID, SOCKS_PORT, SOCKS_LOG.
start_socks() {
	local auth=() try
	[ -x "$MICROSOCKS" ] ||
	    skip "microsocks is not installed (apt-get install microsocks)"
	[ $# -lt 2 ] || auth=(-u "$1" -P "$2")
	SOCKS_LOG=${SOCKS_LOG:-$T/socks.log}
	for try in 1 2 3 4 5; do
		SOCKS_PORT=$(free_port) || return 1
		"$MICROSOCKS" -i 127.0.0.1 -p "$SOCKS_PORT" "${auth[@]}" \
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

# ---- the client's side ----

# as_user NAME: the client home of NAME ($T/home-NAME) becomes E2E_HOME,
# and NAME's password file $T/NAME.pw (mode 0600) exists.
as_user() {
	export E2E_HOME="$T/home-$1"
	[ -e "$T/$1.pw" ] ||
	    (umask 077 && password_of "$1" > "$T/$1.pw" && echo >> "$T/$1.pw")
}

# password_of NAME: NAME's password, distinctive enough to grep for.
password_of() {
	printf 'Pw-%s-c0rrect-h0rse' "$1"
}

# session_field FIELD: a field of the session file in $E2E_HOME.
session_field() {
	jq -r --arg f "$1" '.[$f]' "$E2E_HOME/session"
}

# msg_of_line N: the "message" member of line N of $output (the JSON
# lines of e2e-recv), as text: an object back to JSON, a string as is.
msg_of_line() {
	printf '%s\n' "$output" | sed -n "${1}p" |
	    jq -rc '.message | if type == "string" then . else tojson end'
}

# clear_proxy_env: no proxy from the caller's environment (libcurl reads
# these); the tests set them where they mean to.
clear_proxy_env() {
	unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY \
	    no_proxy NO_PROXY HTTP_PROXY
}

# socks_seen HOST:PORT: how many connections microsocks made to HOST:PORT.
socks_seen() {
	grep -cF "connected to $1" "$SOCKS_LOG" 2>/dev/null || true
}
