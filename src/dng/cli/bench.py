"""`dng bench`: parses and calls :func:`dng.bench.run_bench`."""

from __future__ import annotations

import json


ALL = ["encoder", "inr2jls", "classify", "dng-encoder", "ng-gnn", "ng-gnn-lite", "nfn", "mlp"]


def cmd_bench(args) -> None:
    import sys

    from dng.bench import markdown, run_bench
    from dng.device import resolve_device
    from dng.errors import ConfigError

    from dng.models.registry import missing_extras

    models = args.models.split(",") if args.models else ALL
    unknown = [m for m in models if m not in ALL]
    if unknown:
        raise ConfigError(f"unknown bench model(s) {', '.join(unknown)} (choose {', '.join(ALL)})")
    if not args.models:  # by default, the baselines whose extra is installed
        missing = missing_extras(models)
        if missing:
            print(f"(skipping {', '.join(missing)}: pip install \"dng[baselines]\")",
                  file=sys.stderr)
        models = [m for m in models if m not in missing]
    args.device = str(resolve_device(args.device))
    res = run_bench(models, args.shape, args.device, args.repeats, not args.no_train,
                    not args.no_reference, args.compile, args.bf16)
    print(markdown(res))
    print(f"\nreproduce: dng bench {' '.join(sys.argv[2:])}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v for k, v in res.items() if k != "_rows"}, f, indent=2)


def register(sub) -> None:
    b = sub.add_parser("bench", help="speed/FLOPs/memory table of the models")
    b.add_argument("--models", help=f"comma list of {','.join(ALL)} (default all)")
    b.add_argument("--shape", default="mnist",
                   help="mnist | cifar | sizes like 2,32,32,1 | smallcnn (the CNN predictor "
                        "and the CNN baselines on Small CNN Zoo networks)")
    b.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    b.add_argument("--repeats", type=int, default=5)
    b.add_argument("--no-train", action="store_true", help="skip training-throughput columns")
    b.add_argument("--no-reference", action="store_true", help="skip reference-structure rows")
    b.add_argument("--compile", action="store_true", help="torch.compile the models")
    b.add_argument("--bf16", action="store_true", help="bf16 autocast")
    b.add_argument("--json", help="also write the results as JSON")
    b.set_defaults(fn=cmd_bench)
