#!/bin/sh
# Calls that have no place in this code base (STYLE.md): unbounded copies
# and formats, and number parsers that cannot report errors. Tags and
# MACs are compared only with CRYPTO_memcmp (J12, T7).
status=0
if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok)\s*\(' \
    lib/*/*.c lib/*/*.h cmd/*/*.c; then
	echo "lint: banned call above (use snprintf, strtol, ...)" >&2
	status=1
fi
if grep -nE '(^|[^_])(memcmp|strcmp|strncmp)\s*\([^;]*\b(tag|mac|hmac|digest|sig)\b' \
    lib/*/*.c cmd/*/*.c; then
	echo "lint: a tag or MAC compared without CRYPTO_memcmp" >&2
	status=1
fi
[ "$status" -eq 0 ] && echo "lint: ok"
exit "$status"
