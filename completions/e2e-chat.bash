# Bash completion for e2e-chat's tools: e2e-keygen, e2e-encrypt,
# e2e-decrypt, e2e-server, e2e-account, e2e-send, e2e-recv, e2e-keys,
# e2e-chat.
#
# What a tool accepts is read from its own --help (once per shell and
# command), so the completion never disagrees with the tool: the options
# and what each option's value is (the word after it: FILE, NAME, ...),
# the subcommands and their operands from the usage lines. A NAME is
# completed with the contacts of the keyring, as `e2e-keys list` prints
# them; a FILE (KEYFILE, PRIVKEY, OUT, PATH) with file names; a PUBKEY
# with both. `make install` puts this file where bash-completion looks,
# under each tool's name.

declare -gA _e2e_opts _e2e_arg _e2e_subs _e2e_subargs _e2e_operands
declare -gA _e2e_parsed

# Reads CMD --help into the tables above, keyed by CMD.
_e2e_parse_help()
{
	local cmd=$1 tool=${1##*/} line entry=''
	local -a entries=() toks
	local re_opt='^ {2,6}(-([A-Za-z0-9]), )?(--[a-z0-9-]+)( ([^ ]+))?'
	local in_usage=1 t short raw prev sub arg

	while IFS= read -r line; do
		if ((in_usage)); then
			if [[ -z $line ]]; then
				in_usage=0
				[[ -n $entry ]] && entries+=("$entry")
				continue
			fi
			read -r -a toks <<<"$line"
			[[ ${toks[0]} == usage: ]] && toks=("${toks[@]:1}")
			if [[ ${toks[0]} == "$tool" ]]; then
				[[ -n $entry ]] && entries+=("$entry")
				entry=${toks[*]:1}
			else
				entry+=" ${toks[*]}"
			fi
			continue
		fi
		[[ $line =~ $re_opt ]] || continue
		t=${BASH_REMATCH[3]} short=${BASH_REMATCH[2]}
		arg=${BASH_REMATCH[5]}
		_e2e_opts["$cmd"]+=" $t${short:+ -$short}"
		# A value's name is upper case (or sha256//B64), not a word of
		# the description.
		if [[ $arg =~ ^[A-Z]|// ]]; then
			_e2e_arg["$cmd $t"]=$arg
			[[ -n $short ]] && _e2e_arg["$cmd -$short"]=$arg
		fi
	done < <("$cmd" --help 2>/dev/null)
	# A command not found (yet) is asked again at the next TAB.
	[[ -n ${_e2e_opts[$cmd]} ]] && _e2e_parsed["$cmd"]=1

	# Each usage line: [options] [SUBCOMMAND] operands; an upper-case
	# word right after an option that its bracket does not close is
	# that option's value, not an operand.
	for entry in "${entries[@]}"; do
		read -r -a toks <<<"$entry"
		sub='' prev=''
		for raw in "${toks[@]}"; do
			t=${raw//[\[\]]/}
			if [[ -z $sub && $raw =~ ^[a-z][a-z0-9-]*$ ]]; then
				sub=$raw
				_e2e_subs["$cmd"]+=" $sub"
			elif [[ $t =~ ^[A-Z][A-Z|]*$ ]] &&
			    ! [[ $prev == -* && $prev != *']' ]]; then
				if [[ -n $sub ]]; then
					_e2e_subargs["$cmd $sub"]+=" $t"
				else
					_e2e_operands["$cmd"]+="|$t"
				fi
			fi
			prev=${raw#[}
		done
	done
}

# The contacts' names, from the e2e-keys beside CMD (or on PATH).
_e2e_contacts()
{
	local keys=e2e-keys
	[[ $1 == */* ]] && keys=${1%/*}/e2e-keys
	"$keys" list 2>/dev/null |
		sed -n 's/^{"name":"\([^"]*\)".*/\1/p'
}

# Adds to COMPREPLY what a value named KIND (FILE, NAME, NAME|KEYFILE,
# ...) may be, for the word CUR of command CMD.
_e2e_value()
{
	local cmd=$1 kind=$2 cur=$3 k files='' names='' extra=''
	local IFS='|'
	for k in $kind; do
		case $k in
		FILE | KEYFILE | PRIVKEY | OUT | PATH) files=1 ;;
		PUBKEY) files=1 names=1 ;;
		NAME) names=1 ;;
		ENC) extra="A256CBC-HS512 A256GCM" ;;
		FORMAT) extra="jwe seed" ;;
		BITS) extra="2048 3072 4096" ;;
		esac
	done
	IFS=$' \t\n'
	if [[ -n $names ]]; then
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W \
		    "$(_e2e_contacts "$cmd")" -- "$cur")
	fi
	if [[ -n $extra ]]; then
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -W \
		    "$extra" -- "$cur")
	fi
	if [[ -n $files ]]; then
		compopt -o filenames 2>/dev/null
		mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f \
		    -- "$cur")
	fi
}

_e2e_complete()
{
	local cmd=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]}
	local prev='' i w sub='' kind n=0
	local -a args

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	[[ -n ${_e2e_parsed[$cmd]} ]] || _e2e_parse_help "$cmd"

	# The value of an option.
	if ((COMP_CWORD > 1)) && [[ -n ${_e2e_arg[$cmd $prev]} ]]; then
		kind=${_e2e_arg[$cmd $prev]}
		# Your own name, not a contact's.
		case "${cmd##*/} $prev" in
		"e2e-encrypt --from" | *" --as") return 0 ;;
		esac
		_e2e_value "$cmd" "$kind" "$cur"
		return 0
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_e2e_opts[$cmd]}" \
		    -- "$cur")
		return 0
	fi

	# The operands before this word, and the subcommand among them.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -n ${_e2e_arg[$cmd $w]} ]]; then
			((i++))
		elif [[ $w != -* ]]; then
			if [[ -z $sub && " ${_e2e_subs[$cmd]} " == *" $w "* ]]
			then
				sub=$w
			else
				((n++))
			fi
		fi
	done
	if [[ -n ${_e2e_subs[$cmd]} ]]; then
		if [[ -z $sub ]]; then
			mapfile -t COMPREPLY < <(compgen -W \
			    "${_e2e_subs[$cmd]}" -- "$cur")
			return 0
		fi
		read -r -a args <<<"${_e2e_subargs[$cmd $sub]}"
		((n < ${#args[@]})) || return 0
		kind=${args[n]}
		# e2e-account's NAME is the account's, not a contact's.
		[[ ${cmd##*/} == e2e-account ]] && return 0
		_e2e_value "$cmd" "$kind" "$cur"
		return 0
	fi
	[[ -n ${_e2e_operands[$cmd]} ]] &&
		_e2e_value "$cmd" "${_e2e_operands[$cmd]#|}" "$cur"
	return 0
}

complete -F _e2e_complete e2e-keygen e2e-encrypt e2e-decrypt e2e-server \
	e2e-account e2e-send e2e-recv e2e-keys e2e-chat
