# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run): Debian packages and the project
# virtual environment. Debian 12/13 refuse `pip install` into the system Python (PEP 668), so
# everything installs into a venv: .venv in the repository root, or $SENSEGRAPH_VENV.

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# apt_install PKG...: install the Debian packages that are not installed yet.
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# make_venv DIR: create the venv at DIR unless one is there (Debian's python3-venv when venv fails).
make_venv() {
  local dir="$1"
  if [ -x "$dir/bin/python" ]; then
    "$dir/bin/python" -m pip --version >/dev/null 2>&1 && return 0
    echo "error: $dir holds a virtual environment without a working pip; remove it and run again" >&2
    return 1
  fi
  if ! python3 -m venv "$dir" >/dev/null 2>&1; then
    rm -rf "$dir"  # a failed venv leaves a python without pip behind
    apt_install python3-venv
    python3 -m venv "$dir"
  fi
  echo "created the virtual environment $dir (activate it with: . $dir/bin/activate)" >&2
}

VENV="${SENSEGRAPH_VENV:-$PWD/.venv}"
