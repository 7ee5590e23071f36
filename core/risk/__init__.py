"""Pre-trade risk: named limits (limits, config: configs/risk.toml), the checks and their reason codes
(checks), desk exposure (exposure), the volatility rule (volatility), the latched kill switch (killswitch)
and operator identities (operator). The oms engine (core/oms) owns the state these read."""
