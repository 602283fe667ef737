"""``python -m deploy --replicas N --port 8080``: N Streamlit replicas behind HAProxy until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys

from deploy import Deployment


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    p.add_argument("--replicas", type=int, default=2, help="Streamlit processes (one core each); default 2")
    p.add_argument("--port", type=int, default=8080, help="HAProxy's port; replicas use the next N ports")
    p.add_argument("--host", default="127.0.0.1", help="address HAProxy binds (0.0.0.0 for a lecture hall)")
    p.add_argument("--print-config", action="store_true", help="print the generated haproxy.cfg and exit")
    args = p.parse_args(argv)
    dep = Deployment(args.replicas, args.port, host=args.host)
    if args.print_config:
        from deploy import haproxy_config
        print(haproxy_config(args.port, [args.port + i for i in range(1, args.replicas + 1)], args.host))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        dep.start()
        print(f"{args.replicas} replica(s) behind HAProxy: http://{args.host}:{args.port} (Ctrl-C stops all)",
              flush=True)
        dep.haproxy.wait()
        return 1  # haproxy ended on its own
    except KeyboardInterrupt:
        return 0
    finally:
        dep.stop()


if __name__ == "__main__":
    sys.exit(main())
