"""The export targets: name -> module with `render(plan) -> Export`, imported only when
that target is asked for (the CLI lists the names without importing any)."""

TARGETS: dict[str, str] = {
    "lightdash": "northstar.semantic.exports.lightdash",
    "cube": "northstar.semantic.exports.cube",
}
