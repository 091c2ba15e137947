"""Benchmarks of dyte_async against raw aiohttp and httpx: `python -m benchmarks [--quick]`."""
