"""The ``rasflow`` command: a table of sub-commands, each imported only when used.

Like pip's commands_dict: name -> (module, function, summary). A command
function takes the remaining argv and returns an exit status; user errors are
one line on stderr and status 2.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("rasflow.commands.run", "main", "run a scenario (default guest-ue-ar): timeline, outcome, verdicts"),
    "scenarios": ("rasflow.commands.run", "scenarios", "list the built-in scenarios"),
    "compare": ("rasflow.commands.compare", "main", "the same scenarios under several policies, side by side"),
    "decode": ("rasflow.commands.decode", "main", "decode CPER records, status blocks, ACPI tables or registers"),
    "encode": ("rasflow.commands.encode", "main", "encode our JSON or libcper's JSON back to bytes"),
    "convert": ("rasflow.commands.convert", "main", "convert records between containers (JSON, kernel log, Redfish, rasdaemon, QMP)"),
    "inject": ("rasflow.commands.inject", "main", "inject an error into QEMU (inject-ghes-v2-error) or through EINJ"),
    "campaign": ("rasflow.commands.campaign", "main", "fault-injection campaigns: run, resume, summarize"),
    "verify": ("rasflow.commands.verify", "main", "verify our rendering against the real Linux kernel (QEMU: BERT, GHES, SEA)"),
}


def usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: rasflow COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {n:<{width}}  {summary}" for n, (_, _, summary) in COMMANDS.items()]
    lines += ["", "rasflow COMMAND --help for the arguments of one command"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] == "--version":
        from . import __version__

        print(f"rasflow {__version__}")
        return 0
    name = args[0]
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=3)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        print(f"rasflow: unknown command {name!r}{hint}", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    # The edge of every command: what a command did not turn into its own one-line error
    # (UserError, FormatError, ScenarioError) is still one line here, never a traceback.
    try:
        return getattr(importlib.import_module(module), func)(args[1:])
    except BrokenPipeError:  # `rasflow decode ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # Ctrl-C where a command has no stop path of its own
        print(f"rasflow {name}: interrupted", file=sys.stderr)
        return 130
    except UnicodeDecodeError as e:  # text input that is not UTF-8 (TOML, JSON, logs)
        print(f"rasflow {name}: input is not UTF-8 text: byte {e.object[e.start]:#04x} at offset "
              f"{e.start}", file=sys.stderr)
        return 2
    except RecursionError:  # TOML or JSON nested deeper than a parser can follow
        print(f"rasflow {name}: input nested too deeply to read", file=sys.stderr)
        return 2
    except OSError as e:  # the environment: a directory where a file was meant, a full or
        where = f"{e.filename}: " if e.filename else ""  # read-only file system, ...
        print(f"rasflow {name}: {where}{e.strerror or e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
