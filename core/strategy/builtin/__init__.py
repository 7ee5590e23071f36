"""Built-in strategies: a market maker (market_maker.py) and a statistical-arbitrage pairs strategy
(pairs.py), with the rolling statistics the pairs strategy uses (stats.py)."""
