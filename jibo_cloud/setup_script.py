"""The robot set-up script ``jibo-cloud robot setup-script`` prints (docs/robots.md).

What the script does on the robot, inside blocks marked ``# >>> jibo-cloud >>>`` …
``# <<< jibo-cloud <<<``, and what each step is based on (docs/robots.md says it again, for
owners; NONE of it has been run on a robot by this project):

1. ``/etc/hosts``: the robot's host names (PROTOCOL.md §1, plus ``<region>.jibo.com`` and
   ``<region>-socket.jibo.com`` for the region in its credentials file) point at the server.
   The block goes first, because resolvers take the first matching line.
2. The CA: written to ``/etc/ssl/certs/jibo-cloud-ca.pem``, linked under its OpenSSL subject
   hash (``<hash>.0``, what OpenSSL's CApath lookup reads), appended to
   ``/etc/ssl/certs/ca-certificates.crt`` (the bundle file), and exported as
   ``NODE_EXTRA_CA_CERTS`` in ``/etc/init.d/S78jibo-system-manager`` (the init script that
   starts the robot's Node services) when that file exists. Node honours that variable from
   6.10.0/7.3.0 on; robots report Node 6.9.2 in their user agent, whose compiled-in CA list
   is all it trusts, so this step alone may not be enough (docs/robots.md, "Trusting the CA").
3. Kept before anything is touched: every file the script changes is copied to the backup
   folder (``/opt/jibo-cloud/backup``) once, the first time; files and folders it creates
   are listed there; ``/var/jibo/credentials.json`` is copied (0600) and never changed.

``--dry-run`` prints each change and writes nothing; ``--revert`` puts every changed file
back byte for byte from its copy, removes what the script created, then the backup folder.
Running it again is harmless: each block is replaced, the first copies are kept.

The script is POSIX ``sh`` for busybox (no ``local``, arrays, ``[[``, ``$'…'`` or
``echo -e``) and works under a root prefix, ``JIBO_ROOT`` (default ``/``), so tests run it
against a fake root folder. This module only builds text; it touches no file.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess

import attrs

from jibo_cloud.errors import JiboCloudError

BEGIN_MARK = "# >>> jibo-cloud >>>"
END_MARK = "# <<< jibo-cloud <<<"
MODES = ("apply", "dry-run", "revert")
#: A region label as the robot's credentials name it (``api``); one DNS label.
_REGION = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HASH = re.compile(r"[0-9a-f]{8}")
_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?"
)


class SetupScriptError(JiboCloudError):
    """The set-up script cannot be made from these inputs; the message says which and why."""


def server_address(address: str) -> str:
    """``address`` as a hosts-file address (IPv4 or IPv6).

    Raises:
        SetupScriptError: it is a name or malformed (a hosts file needs an address).
    """
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        raise SetupScriptError(
            f"--server must be the server's IP address as the robot reaches it (got "
            f"{address!r}): the robot's hosts file maps names to addresses"
        ) from None


def ca_certificate(pem: str) -> str:
    """The first PEM certificate in ``pem``, normalised to ``\\n`` line ends.

    Raises:
        SetupScriptError: there is none.
    """
    match = _PEM.search(pem)
    if match is None:
        raise SetupScriptError("the CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return match.group(0).replace("\r\n", "\n").rstrip("\n") + "\n"


@attrs.frozen
class SetupOptions:
    """What the script is made from."""

    #: The server's address as the robot reaches it (:func:`server_address`).
    server: str
    #: The CA certificate the robot must trust (:func:`ca_certificate`).
    ca_pem: str
    #: OpenSSL's subject hash of the CA (``openssl x509 -subject_hash``); None: the script
    #: computes it on the robot if it has ``openssl``, else skips the hash link.
    ca_hash: str | None = None
    #: Regions whose ``<region>.jibo.com``/``<region>-socket.jibo.com`` are mapped too.
    regions: tuple[str, ...] = ("api",)
    #: What the script does when run without an argument.
    mode: str = attrs.field(default="apply", validator=attrs.validators.in_(MODES))
    #: Also export ``NODE_TLS_REJECT_UNAUTHORIZED=0`` for the robot's Node services, whose
    #: Node 6.9 ignores ``NODE_EXTRA_CA_CERTS``: certificate checks OFF on the robot, so anyone
    #: on its network can pose as this server. Off unless the owner asks (docs/robots.md).
    node_tls_checks_off: bool = False

    def __attrs_post_init__(self) -> None:
        if server_address(self.server) != self.server:
            raise SetupScriptError(f"not a normalised address: {self.server!r}")
        for region in self.regions:
            if not _REGION.fullmatch(region):
                raise SetupScriptError(f"not a region label: {region!r}")
        if self.ca_hash is not None and not _HASH.fullmatch(self.ca_hash):
            raise SetupScriptError(f"not an OpenSSL subject hash: {self.ca_hash!r}")
        if ca_certificate(self.ca_pem) != self.ca_pem:
            raise SetupScriptError("ca_pem must be one normalised PEM certificate")


def subject_hash(pem: str) -> str | None:
    """OpenSSL's subject hash of ``pem`` (the ``<hash>.0`` link name in a CApath folder),
    from the ``openssl`` program if this machine has it, else None (the script then tries
    ``openssl`` on the robot). The one function here that runs a program."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program and arguments, no shell
            [openssl, "x509", "-noout", "-subject_hash"],
            input=pem.encode(), capture_output=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = done.stdout.decode(errors="replace").strip()
    return value if done.returncode == 0 and _HASH.fullmatch(value) else None


def host_names(regions: tuple[str, ...]) -> list[str]:
    """PROTOCOL.md §1's three names, then each region's two (no duplicates)."""
    names = ["api.jibo.com", "api-socket.jibo.com", "neo-hub.jibo.com"]
    for region in regions:
        for name in (f"{region}.jibo.com", f"{region}-socket.jibo.com"):
            if name not in names:
                names.append(name)
    return names


def render(options: SetupOptions) -> str:
    """The whole script, ready to be saved and run with ``sh`` on the robot."""
    values = {
        "@@SERVER@@": options.server,
        "@@HOSTS@@": " ".join(host_names(options.regions)),
        "@@CA_HASH@@": options.ca_hash or "",
        "@@MODE@@": options.mode,
        "@@NODE_TLS_OFF@@": "yes" if options.node_tls_checks_off else "",
        "@@BEGIN@@": BEGIN_MARK,
        "@@END@@": END_MARK,
        "@@CA_PEM@@": options.ca_pem.rstrip("\n"),
    }
    text = _TEMPLATE
    for key, value in values.items():
        text = text.replace(key, value)
    return text


# The script. Rules: POSIX sh only (shellcheck -s sh clean); every path under "$ROOT"; every
# write goes through `cat tmp > file` so a file's inode, mode, owner and any bind mount or
# symlink in front of it stay as they were; nothing outside the marked blocks is rewritten.
_TEMPLATE = r"""#!/bin/sh
# jibo-cloud robot set-up, made by `jibo-cloud robot setup-script` (see docs/robots.md).
#   sh jibo-cloud-setup.sh              make the changes (default: @@MODE@@)
#   sh jibo-cloud-setup.sh --dry-run    print what would change, change nothing
#   sh jibo-cloud-setup.sh --revert     put every changed file back byte for byte
# JIBO_ROOT=/some/dir runs it against a copy of the robot's files instead of /.
# NOT run on a real robot by the jibo-cloud project: read docs/robots.md first.
set -eu

SERVER='@@SERVER@@'
HOSTS='@@HOSTS@@'
CA_HASH='@@CA_HASH@@'
BEGIN='@@BEGIN@@'
END='@@END@@'
MODE='@@MODE@@'
NODE_TLS_OFF='@@NODE_TLS_OFF@@'
case "${1:-}" in
  --dry-run) MODE=dry-run ;;
  --revert) MODE=revert ;;
  --apply) MODE=apply ;;
  '') ;;
  *) echo "usage: sh $0 [--apply|--dry-run|--revert]" >&2; exit 2 ;;
esac

ROOT=${JIBO_ROOT:-/}
ROOT=${ROOT%/}
BACKUP="$ROOT/opt/jibo-cloud/backup"
CERTS=/etc/ssl/certs
CA_FILE="$CERTS/jibo-cloud-ca.pem"
BUNDLE="$CERTS/ca-certificates.crt"
INIT=/etc/init.d/S78jibo-system-manager
CREDS=/var/jibo/credentials.json
TMP=''
umask 022

say() { printf 'jibo-cloud: %s\n' "$*"; }
cleanup() { if [ -n "$TMP" ]; then rm -f "$TMP" "$TMP.2"; fi; }
trap cleanup EXIT

ca_pem() {
  cat <<'JIBO_CLOUD_CA'
@@CA_PEM@@
JIBO_CLOUD_CA
}

# The backup copy of a robot path (/etc/hosts -> $BACKUP/files/etc__hosts).
copy_of() { printf '%s/files/%s' "$BACKUP" "$(printf '%s' "${1#/}" | sed 's|/|__|g')"; }

# Print a file without its marked block (nothing if the file does not exist).
unmarked() {
  if [ -f "$1" ]; then sed "/^$BEGIN\$/,/^$END\$/d" "$1"; fi
}

# True when the file is missing or its last byte is a newline.
ends_in_newline() { [ ! -s "$1" ] || [ -z "$(tail -c 1 "$1")" ]; }

# On the robot itself (no JIBO_ROOT) the root file system may be mounted read-only.
make_writable() {
  target=$1
  if [ ! -e "$target" ]; then target=$(dirname "$target"); fi
  if [ -z "$ROOT" ] && [ ! -w "$target" ]; then
    say "remounting / read-write for $1"
    mount -o remount,rw /
  fi
}

# Create a folder (and its missing parents), noting each one so --revert removes it.
ensure_dir() {
  missing=''
  d=$1
  while [ ! -d "$d" ]; do
    missing="$d
$missing"
    d=$(dirname "$d")
  done
  if [ -z "$missing" ]; then return 0; fi
  printf '%s' "$missing" | while IFS= read -r d; do
    if [ -n "$d" ]; then mkdir "$d"; fi
  done
  if [ -d "$BACKUP" ]; then printf '%s' "$missing" | sed '/^$/d' >> "$BACKUP/made-dirs"; fi
}

open_backup() {
  if [ ! -d "$BACKUP" ]; then
    ensure_dir "$BACKUP"
    chmod 700 "$BACKUP"
    mkdir "$BACKUP/files"
    : > "$BACKUP/created"
    touch "$BACKUP/made-dirs"
  fi
}

# Keep a robot path before its first change: its bytes if it exists, else its name.
keep() {
  copy=$(copy_of "$1")
  if [ -e "$copy" ] || grep -qxF "$1" "$BACKUP/created"; then return 0; fi
  if [ -e "$ROOT$1" ] || [ -L "$ROOT$1" ]; then
    cp "$ROOT$1" "$copy"
  else
    printf '%s\n' "$1" >> "$BACKUP/created"
  fi
}

# Replace a robot file's bytes with those of $TMP (keeping inode, mode and owner).
put() {
  make_writable "$ROOT$1"
  if [ -e "$ROOT$1" ]; then cat "$TMP" > "$ROOT$1"; return 0; fi
  ensure_dir "$(dirname "$ROOT$1")"
  cat "$TMP" > "$ROOT$1"
  chmod 644 "$ROOT$1"
}

show() {
  if [ "$MODE" = dry-run ]; then
    say "would change $1:"
    sed 's/^/    | /' "$TMP"
  fi
}

hosts_block() {
  printf '%s\n' "$BEGIN"
  printf '%s\n' "# the robot's cloud names -> this jibo-cloud server (undo: --revert)"
  for name in $HOSTS; do printf '%s\t%s\n' "$SERVER" "$name"; done
  printf '%s\n' "$END"
}

# Step 1: hosts entries, first in the file.
step_hosts() {
  region=''
  if [ -f "$ROOT$CREDS" ]; then
    region=$(sed -n 's/.*"region"[[:space:]]*:[[:space:]]*"\([a-z0-9-]*\)".*/\1/p' \
      "$ROOT$CREDS" | head -n 1)
  fi
  if [ -n "$region" ]; then
    case " $HOSTS " in
      *" $region.jibo.com "*) ;;
      *) HOSTS="$HOSTS $region.jibo.com $region-socket.jibo.com"
         say "the credentials name region '$region': mapping $region.jibo.com too" ;;
    esac
  fi
  if [ -f "$ROOT/etc/hosts" ]; then
    others=$(unmarked "$ROOT/etc/hosts" | grep -v '^[[:space:]]*#' | grep -F 'jibo.com' || true)
    if [ -n "$others" ]; then
      say "note: /etc/hosts has other jibo.com lines (ours come first, so they win):"
      printf '%s\n' "$others" | sed 's/^/    /'
    fi
  fi
  { hosts_block; unmarked "$ROOT/etc/hosts"; } > "$TMP"
  show /etc/hosts
  if [ "$MODE" = apply ]; then
    keep /etc/hosts
    put /etc/hosts
    say "mapped $HOSTS to $SERVER in /etc/hosts"
  fi
}

# Step 2: the CA in the system store, the bundle, and for the robot's Node services.
step_ca() {
  ca_pem > "$TMP"
  if [ "$MODE" = dry-run ]; then
    say "would write the CA to $CA_FILE"
  else
    ensure_dir "$ROOT$CERTS"
    keep "$CA_FILE"
    put "$CA_FILE"
  fi
  hash=$CA_HASH
  if [ -z "$hash" ] && command -v openssl >/dev/null 2>&1; then
    hash=$(ca_pem | openssl x509 -noout -subject_hash 2>/dev/null || true)
  fi
  if [ -z "$hash" ]; then
    say "note: no subject hash (no openssl here): skipping the $CERTS/<hash>.0 link"
  elif [ "$MODE" = dry-run ]; then
    say "would link $CERTS/$hash.0 -> jibo-cloud-ca.pem"
  else
    link="$CERTS/$hash.0"
    if [ -e "$ROOT$link" ] && [ "$(readlink "$ROOT$link" || true)" != jibo-cloud-ca.pem ]; then
      say "note: $link exists already (another CA with the same subject hash); not replaced"
    else
      keep "$link"
      rm -f "$ROOT$link"
      ln -s jibo-cloud-ca.pem "$ROOT$link"
    fi
  fi
  unmarked "$ROOT$BUNDLE" > "$TMP"
  if ! ends_in_newline "$TMP"; then echo >> "$TMP"; fi
  { printf '%s\n' "$BEGIN"; ca_pem; printf '%s\n' "$END"; } >> "$TMP"
  show "$BUNDLE"
  if [ "$MODE" = apply ]; then keep "$BUNDLE"; put "$BUNDLE"; say "added the CA to $BUNDLE"; fi
  if [ ! -f "$ROOT$INIT" ]; then
    say "note: no $INIT here: NODE_EXTRA_CA_CERTS not set (see docs/robots.md)"
    return 0
  fi
  unmarked "$ROOT$INIT" > "$TMP.2"
  {
    if head -n 1 "$TMP.2" | grep -q '^#!'; then head -n 1 "$TMP.2"; fi
    printf '%s\n' "$BEGIN" "export NODE_EXTRA_CA_CERTS=$CA_FILE"
    if [ -n "$NODE_TLS_OFF" ]; then
      printf '%s\n' "# certificate checks OFF for Node (--node-tls-checks-off; docs/robots.md)" \
        "export NODE_TLS_REJECT_UNAUTHORIZED=0"
    fi
    printf '%s\n' "$END"
    if head -n 1 "$TMP.2" | grep -q '^#!'; then tail -n +2 "$TMP.2"; else cat "$TMP.2"; fi
  } > "$TMP"
  show "$INIT"
  if [ "$MODE" = apply ]; then keep "$INIT"; put "$INIT"; say "NODE_EXTRA_CA_CERTS set in $INIT"; fi
  if [ -n "$NODE_TLS_OFF" ] && [ "$MODE" = apply ]; then
    say "WARNING: certificate checks are OFF for the robot's Node services ($INIT):"
    say "WARNING: anyone on this network can pose as your server to the robot"
  fi
}

# Step 3 (first, in fact): keep the robot's credentials; they are never changed.
step_credentials() {
  if [ ! -f "$ROOT$CREDS" ]; then
    say "note: no $CREDS here: register the robot with its key pair some other way"
    return 0
  fi
  if [ "$MODE" = dry-run ]; then
    say "would copy $CREDS to $BACKUP/credentials.json (0600); it is not changed"
  elif [ ! -e "$BACKUP/credentials.json" ]; then
    (umask 077 && cp "$ROOT$CREDS" "$BACKUP/credentials.json")
    say "kept a copy of $CREDS in $BACKUP/credentials.json (it is not changed)"
  fi
}

revert() {
  if [ ! -d "$BACKUP" ]; then
    say "nothing to revert: no backup at $BACKUP"
    return 0
  fi
  for copy in "$BACKUP"/files/*; do
    if [ ! -e "$copy" ]; then continue; fi
    path=/$(basename "$copy" | sed 's|__|/|g')
    make_writable "$ROOT$path"
    # Through the file (and any symlink or bind mount in front of it), as it was written.
    if [ -e "$ROOT$path" ]; then cat "$copy" > "$ROOT$path"; else cp "$copy" "$ROOT$path"; fi
    say "restored $path"
  done
  while IFS= read -r path; do
    if [ -n "$path" ]; then rm -f "$ROOT$path"; say "removed $path"; fi
  done < "$BACKUP/created"
  made=$(sort -r "$BACKUP/made-dirs" 2>/dev/null || true)
  rm -rf "$BACKUP"
  printf '%s\n' "$made" | while IFS= read -r d; do
    if [ -n "$d" ]; then rmdir "$d" 2>/dev/null || true; fi
  done
  say "reverted: every changed file is back as it was"
}

if [ "$MODE" = revert ]; then
  revert
  exit 0
fi
if [ "$MODE" = apply ]; then
  open_backup
  TMP="$BACKUP/.tmp"
else
  TMP=$(mktemp)
fi
step_credentials
step_hosts
step_ca
if [ "$MODE" = dry-run ]; then
  say "dry run: nothing was changed"
else
  say "done. Undo with: sh $0 --revert   Check with: jibo-cloud doctor (on the server)"
fi
"""
