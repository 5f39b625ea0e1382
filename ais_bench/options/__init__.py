"""The option table: every command-line option declared once.

One module per run part (engine, data, scenario, measurement, saving, inspection, compare,
cluster, sweep) holds that part's declarations (`OPTIONS`, a tuple of `declare.Option`), the
frozen config part they fill (`part(cfg)`, e.g. DataConfig) and the rules between them
(`check(cfg)`, each refusal one line). From the table come: the argparse parser and --help
(parser.py, one group per part), RunConfig's option fields (config.py, via
dataclasses.make_dataclass), the keys `--sweep` may vary (table.sweepable), the keywords
`ais_bench.benchmark(**options)` accepts (table.api_keywords) and the README's options table
(`python -m ais_bench.options.readme` rewrites it; a test fails when it is stale).

Adding an option
----------------
1. Add one `Option(...)` to the OPTIONS of the part it belongs to, e.g. in engine.py::

       Option(
           "my_option", "engine", parse=integer, default=0,
           help="what it does (shown by --help)",
           field_type="int",           # the annotation of the RunConfig field
           doc="the README's wording", doc_default="`0`",  # optional: help/default otherwise
       ),

   `switch=True` for a 1/true/0/false switch (a bare `--my_option` means on), `aliases=("-x",)`
   for a short form, `sweep=False` if `--sweep` may not vary it, `field=""` if it fills no
   RunConfig field (read by the command line only), `field="other_name"`/`field_default=...`/
   `to_config=...` when the field differs from the option.
2. Its value arrives as `cfg.my_option` on RunConfig (the command line and the API both set
   it: `benchmark(model, my_option=3)`).
3. If code below run.py needs it through a part, add a field to that part's dataclass (e.g.
   `DataConfig` in data.py, or `EngineConfig` in backends/base.py) and pass it in the part
   module's `part(cfg)`: then it arrives as `cfg.data.my_option` / `cfg.engine.my_option`.
4. A rule (range, choice, needs/excludes): a `require(ok, "one-line message")` in the same
   module's `check(cfg)`.
5. Run `python -m ais_bench.options.readme` to regenerate the README's options table.
"""
