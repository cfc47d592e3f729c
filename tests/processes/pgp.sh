#!/usr/bin/env bash
# tests/processes/pgp.sh - the Data Process PGP steps (shapes/dataprocess_pgp.c) against a real
# GnuPG: the test makes its own keys (Alice without a passphrase, Bob with one) in a temporary
# GNUPGHOME, writes certificate components holding them next to the processes of
# tests/processes/pgp/deploy, and checks round trips, armored and binary output, signing, what gpg
# encrypted being decrypted and what the step encrypted being decrypted by gpg, and the errors
# (wrong passphrase, none, wrong key, not a PGP message). A short temporary path keeps gpg-agent's
# socket within the Unix socket path limit (CI runs as root, with no pinentry: loopback).
. "$(dirname "$0")/../lib.sh"
[ -x "$MINIATOM" ] || { echo "FAIL: $MINIATOM is not built" >&2; exit 1; }
command -v gpg >/dev/null || { echo "FAIL: gpg is not installed (apt-get install -y gnupg)" >&2; exit 1; }
t=$(mktemp -d /tmp/ma-pgpt-XXXXXX)
export GNUPGHOME=$t/g
mkdir -m 700 "$GNUPGHOME" "$t/h"
cleanup() { gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT # KEEP=1 keeps the keys, homes and outputs in $t to look at (its gpg-agent too)
G=(gpg --batch --quiet --pinentry-mode loopback --trust-model always)

"${G[@]}" --passphrase '' --quick-gen-key 'Alice <alice@example.test>' future-default default never 2>/dev/null ||
  { echo "FAIL: gpg cannot make a key" >&2; exit 1; }
"${G[@]}" --passphrase 'bob s3cret' --quick-gen-key 'Bob <bob@example.test>' future-default default never 2>/dev/null
"${G[@]}" --armor --export alice@example.test >"$t/alice.pub.asc"
"${G[@]}" --passphrase '' --export-secret-keys alice@example.test >"$t/alice.sec.gpg" # binary
"${G[@]}" --armor --export bob@example.test >"$t/bob.pub.asc"
"${G[@]}" --passphrase 'bob s3cret' --armor --export-secret-keys bob@example.test >"$t/bob.sec.asc"
printf 'bob s3cret\n' >"$t/bob.pass"

ALICE=a11ce000-0000-4000-8000-000000000001     # Alice's public certificate (a component)
ALICE_SEC=a11ce000-0000-4000-8000-000000000002 # Alice's private key (a key file)
BOB=b0b00000-0000-4000-8000-000000000003       # Bob's private certificate (a component)
BOB_PUB=b0b00000-0000-4000-8000-000000000004   # Bob's public key (a key file)
dep=$t/deploy
cp -r "$top_srcdir/tests/processes/pgp/deploy" "$dep"
cert() { # ID NAME KEYFILE: a certificate component holding the armored key
  { printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<bns:Component xmlns:bns="http://api.platform.boomi.com/" componentId="%s" version="1" name="%s" type="certificate" folderName="pgp">\n' "$1" "$2"
    printf '  <bns:object><Certificate xmlns="" type="pgp"><data>'; cat "$3"; printf '</data></Certificate></bns:object>\n</bns:Component>\n'
  } >"$dep/cert-$1.xml"
}
cert "$ALICE" "Alice Public Key" "$t/alice.pub.asc"
cert "$BOB" "Bob Private Key" "$t/bob.sec.asc"
printf 'Hello, PGP!\nLine two \xc3\xa9\n' >"$t/in.txt"

mrun() { # OUTDIR PROCESS ARGS...: runs with the step homes under $t/h; status in $rc
  local o=$1 p=$2; shift 2
  rm -rf "$t/$o"; mkdir -p "$t/$o"
  rc=0
  "${RUN[@]}" run --deploy "$dep" --data "$t/data" --out "$t/$o/results" --set "pgp.home_parent=$t/h" "$@" "$p" \
    >"$t/$o/stdout" 2>"$t/$o/stderr" || rc=$?
}
same_as_input() { cmp -s "$t/in.txt" "$1"; }
KEYS=(--set "pgp.$ALICE_SEC.key_file=$t/alice.sec.gpg" --set "pgp.$BOB_PUB.key_file=$t/bob.pub.asc")

# 1. encrypt for a certificate component, decrypt with a binary key file: the document comes back
mrun rt "PGP Round Trip" --input "$t/in.txt" "${KEYS[@]}"
if [ $rc = 0 ] && same_as_input "$t/rt/results/0001.dat"; then ok "round trip: encrypt then decrypt gives the document back"
else not_ok "round trip (exit $rc)"; head -5 "$t/rt/stderr"; fi

# 2. armored output, which gpg decrypts
mrun arm "PGP Encrypt Armored" --input "$t/in.txt"
if [ $rc = 0 ] && head -1 "$t/arm/results/0001.dat" | grep -qx -- '-----BEGIN PGP MESSAGE-----' &&
   "${G[@]}" --passphrase '' --decrypt "$t/arm/results/0001.dat" 2>/dev/null | cmp -s - "$t/in.txt"; then
  ok "armored output (armor=\"true\") that gpg decrypts"
else not_ok "armored output (exit $rc)"; head -5 "$t/arm/stderr"; fi

# 3. binary output (no armor attribute, as in the corpus), which gpg decrypts
mrun bin "PGP Encrypt Binary" --input "$t/in.txt"
first=$(head -c 1 "$t/bin/results/0001.dat" 2>/dev/null | od -An -tx1 | tr -d ' ')
if [ $rc = 0 ] && [ "$first" != 2d ] && ! grep -q 'BEGIN PGP' "$t/bin/results/0001.dat" &&
   "${G[@]}" --passphrase '' --decrypt "$t/bin/results/0001.dat" 2>/dev/null | cmp -s - "$t/in.txt"; then
  ok "binary output (first byte 0x$first) that gpg decrypts"
else not_ok "binary output (exit $rc, first byte $first)"; head -5 "$t/bin/stderr"; fi

# 4. what gpg encrypted for Bob, decrypted with his certificate component and its passphrase
"${G[@]}" -r bob@example.test --encrypt -o "$t/for-bob.gpg" "$t/in.txt"
"${G[@]}" -r alice@example.test --armor --encrypt -o "$t/for-alice.asc" "$t/in.txt"
mrun gpgin "PGP Decrypt Bob" --input "$t/for-bob.gpg" --set "pgp.Bob Private Key.passphrase=bob s3cret"
if [ $rc = 0 ] && same_as_input "$t/gpgin/results/0001.dat"; then ok "decrypts what gpg encrypted (passphrase by certificate name)"
else not_ok "decrypting gpg's message (exit $rc)"; head -5 "$t/gpgin/stderr"; fi
mrun gpgin2 "PGP Decrypt Bob" --input "$t/for-bob.gpg" --set "pgp.$BOB.passphrase_file=$t/bob.pass"
if [ $rc = 0 ] && same_as_input "$t/gpgin2/results/0001.dat"; then ok "passphrase from pgp.<id>.passphrase_file"
else not_ok "passphrase_file (exit $rc)"; head -5 "$t/gpgin2/stderr"; fi

# 5. the errors, as document errors that say why (and never repeat the passphrase)
mrun wrong "PGP Decrypt Bob" --input "$t/for-bob.gpg" --set "pgp.$BOB.passphrase=Not-The-Passphrase"
if [ $rc = 1 ] && grep -q "step 1 'PGP Decrypt': wrong passphrase for the private key of certificate $BOB" "$t/wrong/stderr" &&
   ! grep -rq 'Not-The-Passphrase' "$t/wrong"; then ok "wrong passphrase: a document error that says so, without the passphrase"
else not_ok "wrong passphrase (exit $rc)"; head -5 "$t/wrong/stderr"; fi
mrun nopass "PGP Decrypt Bob" --input "$t/for-bob.gpg"
if [ $rc = 1 ] && grep -q "needs a passphrase: set pgp.$BOB.passphrase" "$t/nopass/stderr"; then ok "no passphrase: says which setting"
else not_ok "no passphrase (exit $rc)"; head -5 "$t/nopass/stderr"; fi
mrun wrongkey "PGP Decrypt Bob" --input "$t/for-alice.asc" --set "pgp.$BOB.passphrase=bob s3cret"
if [ $rc = 1 ] && grep -q "is encrypted for key [0-9A-F]*, and certificate $BOB holds no private key for it" "$t/wrongkey/stderr"; then
  ok "wrong key: names the key the document is encrypted for"
else not_ok "wrong key (exit $rc)"; head -5 "$t/wrongkey/stderr"; fi
mrun caught "PGP Decrypt Caught" --input "$t/in.txt" --set "pgp.$BOB.passphrase=bob s3cret"
if [ $rc = 0 ] && [ "$(cat "$t/caught/results/0001.dat")" = "caught: step 1 'PGP Decrypt': the document is not an OpenPGP encrypted message" ]; then
  ok "not a PGP message: a document error Try/Catch catches"
else not_ok "not a PGP message (exit $rc)"; cat "$t/caught/results/0001.dat" "$t/caught/stderr" 2>/dev/null | head -5; fi
head -c $(($(wc -c <"$t/for-bob.gpg") - 30)) "$t/for-bob.gpg" >"$t/cut.gpg" # the last 30 bytes gone
mrun cut "PGP Decrypt Bob" --input "$t/cut.gpg" --set "pgp.$BOB.passphrase=bob s3cret"
if [ $rc = 1 ] && grep -q "step 1 'PGP Decrypt': " "$t/cut/stderr"; then ok "a cut message fails the document"
else not_ok "cut message (exit $rc)"; head -5 "$t/cut/stderr"; fi

# 6. signing: signed and encrypted for Bob (gpg checks Alice's signature), and a clear-text signature
mrun se "PGP Sign And Encrypt" --input "$t/in.txt" "${KEYS[@]}"
if [ $rc = 0 ] && "${G[@]}" --passphrase 'bob s3cret' --status-fd 3 --decrypt "$t/se/results/0001.dat" 3>"$t/se/status" 2>/dev/null |
     cmp -s - "$t/in.txt" && grep -q 'GOODSIG .* Alice' "$t/se/status"; then
  ok "signed and encrypted: gpg decrypts it and finds Alice's good signature"
else not_ok "sign and encrypt (exit $rc)"; head -5 "$t/se/stderr"; fi
mrun cs "PGP Clear Sign" --input "$t/in.txt" "${KEYS[@]}"
if [ $rc = 0 ] && head -1 "$t/cs/results/0001.dat" | grep -qx -- '-----BEGIN PGP SIGNED MESSAGE-----' &&
   "${G[@]}" --status-fd 3 --verify "$t/cs/results/0001.dat" 3>"$t/cs/status" 2>/dev/null && grep -q 'GOODSIG .* Alice' "$t/cs/status"; then
  ok "clear-text signature that gpg verifies"
else not_ok "clear sign (exit $rc)"; head -5 "$t/cs/stderr"; fi

# 7. every step's GnuPG home is gone once the deployment is
left=$(ls -A "$t/h")
if [ -z "$left" ]; then ok "the private GnuPG homes are removed at undeploy"; else not_ok "left behind in pgp.home_parent: $left"; fi

# 8. deploy problems: a missing certificate is a missing reference; pgp.* keys are checked
rc=0
"${RUN[@]}" check --deploy "$dep" --set "pgp.home_parent=$t/h" >"$t/check.out" 2>&1 || rc=$?
if [ $rc != 0 ] && grep -q "step 1 'PGP Encrypt': certificate component deadbeef-0000-4000-8000-000000000009 is not in the deployment (or set pgp.deadbeef-0000-4000-8000-000000000009.key_file)" "$t/check.out"; then
  ok "check: a missing certificate component is named"
else not_ok "check on a missing certificate (exit $rc)"; head -20 "$t/check.out"; fi
mrun badkey "PGP Encrypt Binary" --input "$t/in.txt" --set "pgp.$ALICE.keyfile=x"
if [ $rc != 0 ] && grep -q "pgp.$ALICE.keyfile: unknown key" "$t/badkey/stderr"; then ok "an unknown pgp.* setting is refused"
else not_ok "unknown pgp setting (exit $rc)"; head -5 "$t/badkey/stderr"; fi
echo "not a key" >"$t/junk.asc"
mrun junk "PGP Round Trip" --input "$t/in.txt" --set "pgp.$ALICE_SEC.key_file=$t/junk.asc"
if [ $rc = 3 ] && grep -q "holds no OpenPGP key that GnuPG can import" "$t/junk/stderr"; then ok "a key file without a key is a deploy error"
else not_ok "junk key file (exit $rc)"; head -5 "$t/junk/stderr"; fi
mrun pubonly "PGP Round Trip" --input "$t/in.txt" --set "pgp.$ALICE_SEC.key_file=$t/alice.pub.asc"
if [ $rc = 3 ] && grep -q "certificate $ALICE_SEC holds no private key (PGP Decrypt needs one)" "$t/pubonly/stderr"; then
  ok "decrypting with a public key only is a deploy error"
else not_ok "public key for decrypt (exit $rc)"; head -5 "$t/pubonly/stderr"; fi
if "${RUN[@]}" plugins | grep -q 'pgp\.\*\.key_file (file)'; then ok "miniatom plugins lists the pgp.* settings"
else not_ok "plugins does not list pgp.*.key_file"; fi
finish
