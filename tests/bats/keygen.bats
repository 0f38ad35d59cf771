#!/usr/bin/env bats
# e2e-keygen: every option and every error path (cmd/e2e-keygen/main.c,
# lib/format/keyfile.c, lib/base/passphrase.c, lib/base/fileio.c). The
# only bats file that generates keys: the others use the committed ones.

bats_require_minimum_version 1.5.0
load helpers
setup() { common_setup; fixed_keys; }

# Bits, exponent and PEM label of an unencrypted private key file.
key_bits() {
	openssl pkey -in "$1" -noout -text | sed -n '1s/.*(\([0-9]*\) bit.*/\1/p'
}

@test "keygen: default is RSA-2048, e=65537, PKCS#8, to stdout" {
	run --separate-stderr e2e-keygen
	assert_success
	assert_equal "${lines[0]}" "-----BEGIN PRIVATE KEY-----"
	assert_equal "${lines[-1]}" "-----END PRIVATE KEY-----"
	printf '%s\n' "$output" > k
	openssl pkey -in k -noout -text > text
	grep -q 'Private-Key: (2048 bit, 2 primes)' text
	grep -q 'publicExponent: 65537 (0x10001)' text
	# stdout carries only the key; the key id goes to stderr.
	assert_equal "${#stderr_lines[@]}" 1
	[[ "${stderr_lines[0]}" =~ ^e2e-keygen:\ key\ id:\ [A-Za-z0-9_-]{43}$ ]]
	# Without -o nothing is written to the folder.
	run ls -A
	refute_output --partial 'k.pub'
	no_temp_files .
	# "-o -" is stdout too, without a "-.pub".
	run --separate-stderr e2e-keygen -o -
	assert_success
	assert_equal "${lines[0]}" "-----BEGIN PRIVATE KEY-----"
	[ ! -e -.pub ] && [ ! -e ./- ]
}

@test "keygen: -o FILE writes FILE 0600 and FILE.pub 0644 (SPKI)" {
	# The private key is 0600 whatever the umask; the public key is
	# 0644 less the umask, as any new file.
	umask 077
	run --separate-stderr e2e-keygen -o strict
	assert_success
	assert_equal "$(stat -c %a strict)" 600
	assert_equal "$(stat -c %a strict.pub)" 600
	umask 022
	run --separate-stderr e2e-keygen -o me
	assert_success
	assert_equal "$output" ""
	assert_equal "$(stat -c %a me)" 600
	assert_equal "$(stat -c %a me.pub)" 644
	assert_equal "$(head -1 me)" "-----BEGIN PRIVATE KEY-----"
	assert_equal "$(head -1 me.pub)" "-----BEGIN PUBLIC KEY-----"
	assert_equal "$(key_bits me)" 2048
	# The .pub file is the public half of FILE.
	diff -u <(openssl pkey -in me -pubout) me.pub
	no_temp_files .
	umask 000
	run --separate-stderr e2e-keygen --output other
	assert_success
	assert_equal "$(stat -c %a other)" 600
	assert_equal "$(stat -c %a other.pub)" 644
}

@test "keygen: the key id on stderr is the RFC 7638 thumbprint (jwcrypto)" {
	run --separate-stderr e2e-keygen -o me
	assert_success
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint me)"
	# The same id from -y, and for the committed keys.
	run --separate-stderr e2e-keygen -y me
	assert_success
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint me)"
	run --separate-stderr e2e-keygen -y alice
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint alice)"
}

@test "keygen: --bits 3072" {
	run --separate-stderr e2e-keygen --bits 3072 -o k
	assert_success
	assert_equal "$(key_bits k)" 3072
	openssl pkey -in k -noout -text | grep -q 'publicExponent: 65537'
	assert_equal "$(stat -c %a k)" 600
}

@test "keygen: -b 4096 (slow)" {
	run --separate-stderr e2e-keygen -b 4096
	assert_success
	# Saved as a private key is (0600): the tools refuse an unprotected
	# one others can read (C3).
	(umask 077 && printf '%s\n' "$output" > k)
	assert_equal "$(key_bits k)" 4096
	# A 4096-bit key works with the other tools.
	e2e-keygen -y k > k.pub 2>/dev/null
	echo four | e2e-encrypt -r k.pub -s k > m.jwe
	run --separate-stderr e2e-decrypt -i k --verify k.pub m.jwe
	assert_success
	assert_output four
}

@test "keygen: --bits other than 2048/3072/4096 refused (64)" {
	local b
	for b in 1024 2047 abc 0 -2048 4097 16384 " 2048" 2048x ""; do
		run --separate-stderr e2e-keygen --bits "$b" -o k
		usage_refused e2e-keygen "--bits must be 2048, 3072 or 4096"
		[ ! -e k ] && [ ! -e k.pub ]
	done
	run --separate-stderr e2e-keygen -b 2048 -b 3072 -o k
	usage_refused e2e-keygen "--bits given more than once"
	no_temp_files .
}

@test "keygen: an existing FILE or FILE.pub is refused (73) and left as it was" {
	echo old-private > k
	run --separate-stderr e2e-keygen -o k
	refused 73 "e2e-keygen: error: k already exists"
	assert_equal "${stderr_lines[1]}" "e2e-keygen: hint: use --force to overwrite it"
	assert_equal "$(cat k)" old-private
	[ ! -e k.pub ]

	rm k
	echo old-public > k.pub
	run --separate-stderr e2e-keygen -o k
	refused 73 "e2e-keygen: error: k.pub already exists"
	assert_equal "$(cat k.pub)" old-public
	[ ! -e k ]	# no half pair
	no_temp_files .

	# A dangling symlink counts as existing (never followed).
	rm k.pub
	ln -s nowhere k
	run --separate-stderr e2e-keygen -o k
	refused 73 "k already exists"
	[ ! -e nowhere ]
	no_temp_files .
}

@test "keygen: --force overwrites FILE and FILE.pub" {
	echo old-private > k
	echo old-public > k.pub
	chmod 644 k
	run --separate-stderr e2e-keygen --force -o k
	assert_success
	assert_equal "$(head -1 k)" "-----BEGIN PRIVATE KEY-----"
	assert_equal "$(head -1 k.pub)" "-----BEGIN PUBLIC KEY-----"
	assert_equal "$(stat -c %a k)" 600	# not the old file's mode
	diff -u <(openssl pkey -in k -pubout) k.pub
	run --separate-stderr e2e-keygen -f -o k
	assert_success
	no_temp_files .
}

@test "keygen: a failed write leaves neither file nor temporary file" {
	# FILE.pub is a directory: with --force, refused before generating.
	mkdir k.pub
	run --separate-stderr e2e-keygen -f -o k
	refused 73 "e2e-keygen: error: cannot replace k.pub: not a regular file"
	[ ! -e k ]
	[ -d k.pub ] && [ -z "$(ls -A k.pub)" ]
	no_temp_files .
	# A folder that does not exist.
	run --separate-stderr e2e-keygen -o nodir/k
	refused 73 "nodir/k"
	no_temp_files .
	# A file used as a folder.
	touch plain
	run --separate-stderr e2e-keygen -o plain/k
	refused 73 "plain/k"
	# A name that is a folder.
	run --separate-stderr e2e-keygen -o sub/
	refused 73 "sub/"
	run --separate-stderr e2e-keygen -o ''
	refused 73 "e2e-keygen: error: cannot create : not a file name"
	[ ! -e .pub ]
	no_temp_files .
}

@test "keygen: a failed --force write leaves the old FILE as it was" {
	# FILE.pub cannot be written (a folder): the pair is not replaced,
	# and the old private key must not be lost either.
	echo old-private > k
	chmod 600 k
	mkdir k.pub
	run --separate-stderr e2e-keygen -f -o k
	refused 73 "e2e-keygen: error: cannot replace k.pub: not a regular file"
	[ -e k ] || fail "the old private key k was deleted"
	assert_equal "$(cat k)" old-private
	no_temp_files .
}

@test "keygen: -o FILE in another folder, temp files there too" {
	mkdir d
	run --separate-stderr e2e-keygen -o d/k
	assert_success
	[ -f d/k ] && [ -f d/k.pub ]
	no_temp_files d
	no_temp_files .
}

@test "keygen: -y FILE and -y from stdin print the public key (= openssl pkey -pubout)" {
	run --separate-stderr e2e-keygen -y alice
	assert_success
	assert_equal "$output" "$(openssl pkey -in alice -pubout)"
	assert_equal "$output" "$(cat alice.pub)"
	run --separate-stderr e2e-keygen --public < bob
	assert_success
	assert_equal "$output" "$(openssl pkey -in bob -pubout)"
	run --separate-stderr e2e-keygen -y - < carol
	assert_success
	assert_equal "$output" "$(cat carol.pub)"
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint carol)"
}

@test "keygen: -y with a public key, garbage, a folder or a missing file (66)" {
	run --separate-stderr e2e-keygen -y alice.pub
	assert_equal "$status" 66
	assert_equal "$output" ""
	assert_equal "${stderr_lines[-1]}" "e2e-keygen: error: alice.pub is a public key, not a private key"
	# The same with 0600, so no permission warning comes first.
	install -m 600 alice.pub pubcopy
	run --separate-stderr e2e-keygen -y pubcopy
	refused 66 "e2e-keygen: error: pubcopy is a public key, not a private key"
	install -m 600 pkcs1.pub rsapub
	run --separate-stderr e2e-keygen -y rsapub
	refused 66 "rsapub is a public key, not a private key"
	run --separate-stderr e2e-keygen -y < alice.pub
	refused 66 "standard input is a public key, not a private key"

	printf 'not a key\n' > junk
	chmod 600 junk
	run --separate-stderr e2e-keygen -y junk
	refused 66 "e2e-keygen: error: junk is not a PEM private key"
	: > empty
	chmod 600 empty
	run --separate-stderr e2e-keygen -y empty
	refused 66 "empty is not a PEM private key"
	run --separate-stderr e2e-keygen -y missing
	refused 66 "e2e-keygen: error: cannot open private key file missing: No such file or directory"
	mkdir folder
	run --separate-stderr e2e-keygen -y folder
	refused 66 "e2e-keygen: error: private key file folder is a directory"
	# A truncated key.
	head -c 600 alice > cut
	chmod 600 cut
	run --separate-stderr e2e-keygen -y cut
	refused 66 "cut is not a PEM private key"
	# Larger than the key file cap (1 MiB).
	{ cat alice; head -c 1100000 /dev/zero | tr '\0' 'x'; } > huge
	chmod 600 huge
	run --separate-stderr e2e-keygen -y huge
	refused 65 "private key file huge is larger than the limit of 1048576 bytes"
}

@test "keygen: -y refuses weak1024, e=3 and EC keys (65)" {
	run --separate-stderr e2e-keygen -y weak1024.key
	refused 65 "e2e-keygen: error: weak1024.key is a 1024-bit RSA key; at least 2048 bits are needed"
	run --separate-stderr e2e-keygen -y e3.key
	refused 65 "e2e-keygen: error: e3.key has a public exponent other than 65537"
	run --separate-stderr e2e-keygen -y ec.key
	refused 65 "e2e-keygen: error: ec.key is not an RSA key"
}

@test "keygen: -p with E2E_PASSPHRASE: encrypted PKCS#8, PBKDF2-SHA256 600000, AES-256-CBC" {
	E2E_PASSPHRASE='s3cret pass' run --separate-stderr e2e-keygen -p -o k
	assert_success
	assert_equal "$(head -1 k)" "-----BEGIN ENCRYPTED PRIVATE KEY-----"
	assert_equal "$(head -1 k.pub)" "-----BEGIN PUBLIC KEY-----"
	assert_equal "$(stat -c %a k)" 600
	# openssl reads it with the passphrase, and not without.
	openssl pkey -in k -passin 'pass:s3cret pass' -pubout > pub.openssl
	diff -u pub.openssl k.pub
	run openssl pkey -in k -passin pass:wrong -noout
	assert_failure
	# The parameters, from the DER structure.
	openssl asn1parse -in k > asn
	grep -q ':PBES2' asn
	grep -q ':PBKDF2' asn
	grep -q 'INTEGER *:0927C0$' asn	# 600000 iterations
	grep -q ':hmacWithSHA256' asn
	grep -q ':aes-256-cbc' asn
	# The key inside is RSA-2048.
	openssl pkey -in k -passin 'pass:s3cret pass' -noout -text |
	    grep -q 'Private-Key: (2048 bit'
	no_temp_files .
}

@test "keygen: -p with --passphrase-file (first line only, CRLF, stdin)" {
	printf 'file pass\r\nsecond line ignored\n' > pf; chmod 600 pf	# a passphrase file is secret
	run --separate-stderr e2e-keygen -p --passphrase-file pf -o k
	assert_success
	assert_equal "$(head -1 k)" "-----BEGIN ENCRYPTED PRIVATE KEY-----"
	openssl pkey -in k -passin 'pass:file pass' -noout
	# --passphrase-file wins over E2E_PASSPHRASE.
	E2E_PASSPHRASE=env run --separate-stderr e2e-keygen -p \
	    --passphrase-file pf -o k2
	assert_success
	openssl pkey -in k2 -passin 'pass:file pass' -noout
	# "-" reads the passphrase from stdin; the key goes to stdout.
	run --separate-stderr e2e-keygen -p --passphrase-file - <<<'from stdin'
	assert_success
	assert_equal "${lines[0]}" "-----BEGIN ENCRYPTED PRIVATE KEY-----"
	printf '%s\n' "$output" > k3
	openssl pkey -in k3 -passin 'pass:from stdin' -noout
	# -y reads it back with the same sources.
	run --separate-stderr e2e-keygen -y --passphrase-file pf k
	assert_success
	assert_equal "$output" "$(cat k.pub)"
}

@test "keygen: an empty passphrase file, or one whose first line is empty, is refused (65); no key written" {
	# (An empty file is read into no buffer at all: the sanitizer build
	# checks that nothing is done with it.)
	: > pf; chmod 600 pf
	run --separate-stderr e2e-keygen -p --passphrase-file pf -o k
	refused 65 "e2e-keygen: error: the passphrase is empty"
	printf '\nsecond line\n' > pf
	run --separate-stderr e2e-keygen -p --passphrase-file pf -o k
	refused 65 "e2e-keygen: error: the passphrase is empty"
	[ ! -e k ] && [ ! -e k.pub ]
	no_temp_files .
}

@test "keygen: -p without a passphrase source and no terminal (64, hint)" {
	# setsid: no controlling terminal, even when bats runs on one.
	run --separate-stderr setsid -w e2e-keygen -p -o k </dev/null
	refused 64 "e2e-keygen: error: a passphrase is needed for the private key and there is no terminal to ask it on"
	assert_equal "${stderr_lines[1]}" "e2e-keygen: hint: use --passphrase-file FILE or set E2E_PASSPHRASE"
	[ ! -e k ] && [ ! -e k.pub ]
	no_temp_files .
}

@test "keygen: -p on a terminal asks twice, without echo" {
	run on_tty 'tty pass' 'tty pass' -- e2e-keygen -p -o k
	assert_success
	assert_line --index 0 "Passphrase for the private key: "
	assert_line --index 1 "Same passphrase again: "
	assert_line --partial "e2e-keygen: key id: "
	refute_output --partial "tty pass"	# not echoed
	assert_equal "$(head -1 k)" "-----BEGIN ENCRYPTED PRIVATE KEY-----"
	openssl pkey -in k -passin 'pass:tty pass' -noout
	# -y asks once, on the terminal too.
	run on_tty 'tty pass' -- e2e-keygen -y k
	assert_success
	assert_line --index 0 "Passphrase for k: "
	assert_output --partial "$(sed -n 2p k.pub)"
	run on_tty 'not it' -- e2e-keygen -y k
	assert_equal "$status" 77
	assert_line --index 1 "e2e-keygen: error: wrong passphrase for k"
}

@test "keygen: -p on a terminal: two different answers or an empty one refused (65)" {
	run on_tty 'one' 'two' -- e2e-keygen -p -o k
	assert_equal "$status" 65
	assert_line --index 2 "e2e-keygen: error: the two passphrases differ"
	[ ! -e k ] && [ ! -e k.pub ]
	run on_tty '' '' -- e2e-keygen -p -o k
	assert_equal "$status" 65
	assert_line --partial "e2e-keygen: error: the passphrase is empty"
	[ ! -e k ] && [ ! -e k.pub ]
	no_temp_files .
}

@test "keygen: bad passphrases refused: empty file, empty env, NUL, too long, missing file" {
	umask 077	# passphrase files are secret: no exposure warning here
	: > empty
	run --separate-stderr e2e-keygen -p --passphrase-file empty -o k
	refused 65 "e2e-keygen: error: the passphrase is empty"
	printf '\nsecond\n' > blankfirst
	run --separate-stderr e2e-keygen -p --passphrase-file blankfirst -o k
	refused 65 "the passphrase is empty"
	E2E_PASSPHRASE= run --separate-stderr e2e-keygen -p -o k
	refused 65 "the passphrase is empty"
	printf 'ab\0cd\n' > nul
	run --separate-stderr e2e-keygen -p --passphrase-file nul -o k
	refused 65 "e2e-keygen: error: passphrase file nul contains a NUL byte"
	head -c 1024 /dev/zero | tr '\0' a > long
	run --separate-stderr e2e-keygen -p --passphrase-file long -o k
	refused 65 "e2e-keygen: error: passphrase file in long is longer than 1023 bytes"
	E2E_PASSPHRASE=$(cat long) run --separate-stderr e2e-keygen -p -o k
	refused 65 "e2e-keygen: error: E2E_PASSPHRASE is longer than 1023 bytes"
	run --separate-stderr e2e-keygen -p --passphrase-file nosuch -o k
	refused 66 "e2e-keygen: error: cannot open passphrase file nosuch"
	[ ! -e k ] && [ ! -e k.pub ]
	no_temp_files .
	# 1023 bytes is the longest accepted.
	head -c 1023 /dev/zero | tr '\0' b > max
	run --separate-stderr e2e-keygen -p --passphrase-file max -o k
	assert_success
	openssl pkey -in k -passin file:max -noout
}

@test "keygen: --passphrase-file without -p or -y refused (64)" {
	echo pw > pf; chmod 600 pf	# a passphrase file is secret
	run --separate-stderr e2e-keygen --passphrase-file pf -o k
	usage_refused e2e-keygen "--passphrase-file is only used with -p or -y"
	[ ! -e k ]
	run --separate-stderr e2e-keygen -p --passphrase-file pf \
	    --passphrase-file pf -o k
	usage_refused e2e-keygen "--passphrase-file given more than once"
}

@test "keygen: -y of a protected key: right passphrase works, wrong is 77" {
	E2E_PASSPHRASE='correct horse' run --separate-stderr e2e-keygen -y protected
	assert_success
	assert_equal "$output" "$(cat protected.pub)"
	echo 'correct horse' > pf; chmod 600 pf	# a passphrase file is secret
	run --separate-stderr e2e-keygen -y --passphrase-file pf protected
	assert_success
	assert_equal "$output" "$(cat protected.pub)"
	E2E_PASSPHRASE='correct horse' run --separate-stderr e2e-keygen -y < protected
	assert_success
	assert_equal "$output" "$(cat protected.pub)"

	E2E_PASSPHRASE='wrong horse' run --separate-stderr e2e-keygen -y protected
	refused 77 "e2e-keygen: error: wrong passphrase for protected"
	echo 'Correct horse' > bad; chmod 600 bad	# a passphrase file is secret
	run --separate-stderr e2e-keygen -y --passphrase-file bad protected
	refused 77 "wrong passphrase for protected"
	run --separate-stderr setsid -w e2e-keygen -y protected </dev/null
	refused 64 "a passphrase is needed for protected and there is no terminal"
	assert_equal "${stderr_lines[1]}" "e2e-keygen: hint: use --passphrase-file FILE or set E2E_PASSPHRASE"
}

@test "keygen: -y: a passphrase failure is reported once" {
	# OpenSSL asks again when the callback fails; the message must not
	# be repeated (nor a passphrase file read twice).
	E2E_PASSPHRASE= run --separate-stderr e2e-keygen -y protected
	refused 65 "e2e-keygen: error: the passphrase is empty"
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr e2e-keygen -y --passphrase-file nosuch protected
	refused 66 "e2e-keygen: error: cannot open passphrase file nosuch"
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr setsid -w e2e-keygen -y protected </dev/null
	refused 64 "a passphrase is needed for protected"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "keygen: -y with the key and the passphrase both from stdin refused (64)" {
	run --separate-stderr e2e-keygen -y --passphrase-file - < protected
	refused 64 "e2e-keygen: error: "
	assert_equal "${stderr_lines[1]}" "e2e-keygen: hint: see e2e-keygen --help"
	run --separate-stderr e2e-keygen -y --passphrase-file - - < protected
	refused 64 "e2e-keygen: error: "
}

@test "keygen: a passphrase given for an unprotected key is not needed" {
	E2E_PASSPHRASE=whatever run --separate-stderr e2e-keygen -y alice
	assert_success
	assert_equal "$output" "$(cat alice.pub)"
}

@test "keygen: keys from openssl genpkey (PKCS#8, encrypted) work with every tool" {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out o.key 2>/dev/null
	chmod 600 o.key
	openssl pkey -in o.key -pubout -out o.pub
	run --separate-stderr e2e-keygen -y o.key
	assert_success
	assert_equal "$output" "$(cat o.pub)"
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint o.key)"
	echo via-openssl | e2e-encrypt -r o.pub -s o.key > m.jwe
	run --separate-stderr e2e-decrypt -i o.key --verify o.pub m.jwe
	assert_success
	assert_output via-openssl

	# openssl's own encrypted PKCS#8 (-aes256).
	openssl pkey -in o.key -aes256 -passout pass:opw -out oenc.key
	chmod 600 oenc.key
	grep -q 'BEGIN ENCRYPTED PRIVATE KEY' oenc.key
	E2E_PASSPHRASE=opw run --separate-stderr e2e-keygen -y oenc.key
	assert_success
	assert_equal "$output" "$(cat o.pub)"
	E2E_PASSPHRASE=opw run --separate-stderr e2e-decrypt -i oenc.key \
	    --verify o.pub m.jwe
	assert_success
	assert_output via-openssl
	E2E_PASSPHRASE=nope run --separate-stderr e2e-keygen -y oenc.key
	refused 77 "e2e-keygen: error: wrong passphrase for oenc.key"
}

@test "keygen: encrypted PKCS#1 keys (openssl genrsa -aes256, -des3) work" {
	# The traditional PEM encryption ("Proc-Type: 4,ENCRYPTED",
	# "DEK-Info") of older openssl commands, on the committed PKCS#1 key.
	local c k
	for c in aes256 des3; do
		k=trad-$c.key
		openssl rsa -in pkcs1.key -traditional "-$c" -passout pass:opw \
		    -out "$k" 2>/dev/null
		chmod 600 "$k"
		grep -q 'Proc-Type: 4,ENCRYPTED' "$k"
		E2E_PASSPHRASE=opw run --separate-stderr e2e-keygen -y "$k"
		assert_success
		assert_equal "$output" "$(openssl pkey -in pkcs1.key -pubout)"
		E2E_PASSPHRASE=nope run --separate-stderr e2e-keygen -y "$k"
		refused 77 "e2e-keygen: error: wrong passphrase for $k"
	done
	echo trad | e2e-encrypt -r pkcs1.pub > m.jwe
	E2E_PASSPHRASE=opw run --separate-stderr e2e-decrypt -i trad-aes256.key m.jwe
	assert_success
	assert_output trad
}

@test "keygen: PKCS#1 keys (RSA PRIVATE/PUBLIC KEY) work with every tool" {
	run --separate-stderr e2e-keygen -y pkcs1.key
	assert_success
	assert_equal "$output" "$(openssl pkey -in pkcs1.key -pubout)"
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint pkcs1.key)"
	echo pkcs1 | e2e-encrypt -r pkcs1.pub -s pkcs1.key > m.jwe
	run --separate-stderr e2e-decrypt -i pkcs1.key --verify pkcs1.pub m.jwe
	assert_success
	assert_output pkcs1
	# The SPKI and PKCS#1 forms of one key are one recipient.
	e2e-keygen -y pkcs1.key > spki.pub 2>/dev/null
	run --separate-stderr e2e-encrypt -r pkcs1.pub -r spki.pub </dev/null
	refused 64 "e2e-encrypt: error: pkcs1.pub and spki.pub are the same key"
}

@test "keygen: keys made by e2e-keygen are read by openssl" {
	e2e-keygen -o k 2>/dev/null
	openssl pkey -in k -check -noout
	openssl rsa -in k -check -noout
	openssl pkey -pubin -in k.pub -noout -text | grep -q 'Public-Key: (2048 bit)'
	# The public key encrypts with openssl and the private key decrypts:
	# a real key pair, OAEP-SHA256 as the format uses it.
	echo secret > p
	openssl pkeyutl -encrypt -pubin -inkey k.pub -in p -out c \
	    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
	openssl pkeyutl -decrypt -inkey k -in c -out p2 \
	    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
	cmp p p2
}

@test "keygen: usage errors (64): unknown option, missing value, extra arguments, conflicts" {
	run --separate-stderr e2e-keygen -x
	usage_refused e2e-keygen "unknown option -x"
	run --separate-stderr e2e-keygen --bogus
	usage_refused e2e-keygen "unknown option --bogus"
	run --separate-stderr e2e-keygen --bogus=1
	usage_refused e2e-keygen "unknown option --bogus"
	run --separate-stderr e2e-keygen -o
	usage_refused e2e-keygen "option -o needs a value"
	run --separate-stderr e2e-keygen --output
	usage_refused e2e-keygen "option --output needs a value"
	run --separate-stderr e2e-keygen -b
	usage_refused e2e-keygen "option -b needs a value"
	run --separate-stderr e2e-keygen -p --passphrase-file
	usage_refused e2e-keygen "option --passphrase-file needs a value"
	run --separate-stderr e2e-keygen k
	usage_refused e2e-keygen "unexpected argument k; to name the key file, use -o FILE"
	run --separate-stderr e2e-keygen -o k extra
	usage_refused e2e-keygen "unexpected argument extra"
	run --separate-stderr e2e-keygen -o a -o b
	usage_refused e2e-keygen "-o given more than once"
	run --separate-stderr e2e-keygen -y -o k alice
	usage_refused e2e-keygen "-y cannot be used with -o, -p, --bits or --force"
	run --separate-stderr e2e-keygen -y -p alice
	usage_refused e2e-keygen "-y cannot be used with"
	run --separate-stderr e2e-keygen -y --bits 2048 alice
	usage_refused e2e-keygen "-y cannot be used with"
	run --separate-stderr e2e-keygen -y -f alice
	usage_refused e2e-keygen "-y cannot be used with"
	run --separate-stderr e2e-keygen -y alice bob
	usage_refused e2e-keygen "-y takes at most one FILE"
	# Nothing was created by any of these.
	[ ! -e k ] && [ ! -e a ] && [ ! -e b ]
	no_temp_files .
}

@test "keygen: --help on stdout lists options and exit codes; --version" {
	help_and_version e2e-keygen 0 64 65 66 70 73 74 75 77
	assert_output --partial "-o, --output FILE"
	assert_output --partial "-b, --bits BITS"
	assert_output --partial "-p, --protect"
	assert_output --partial "--passphrase-file FILE"
	assert_output --partial "-f, --force"
	assert_output --partial "-y, --public"
}

@test "keygen: C3 an unprotected private key group or others can read is refused (77, one line naming it and chmod 600); a protected one is used with a warning" {
	local m
	for m in 644 640 604 660; do
		chmod "$m" alice
		run --separate-stderr e2e-keygen -y alice
		refused 77 "e2e-keygen: error: private key file alice can be read by group or others and has no passphrase; not using it: chmod 600 alice"
		assert_equal "${#stderr_lines[@]}" 1
	done
	# 0600 and 0400: used, nothing said but the key id.
	chmod 400 alice
	run --separate-stderr e2e-keygen -y alice
	assert_success
	assert_equal "$output" "$(cat alice.pub)"
	assert_equal "$stderr" "e2e-keygen: key id: $(thumbprint alice)"
	# A key on stdin has no mode to check.
	chmod 644 bob
	run --separate-stderr e2e-keygen -y < bob
	assert_success
	assert_equal "$output" "$(cat bob.pub)"
	[[ "$stderr" != *warning* ]]
	# Protected by its passphrase: used, with the warning and the hint.
	chmod 644 protected
	E2E_PASSPHRASE="correct horse" run --separate-stderr e2e-keygen -y protected
	assert_success
	assert_equal "$output" "$(cat protected.pub)"
	assert_equal "${stderr_lines[0]}" "e2e-keygen: warning: private key file protected can be read by group or others"
	assert_equal "${stderr_lines[1]}" "e2e-keygen: hint: chmod 600 protected"
}
