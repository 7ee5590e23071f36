"""The oms: single writer of orders, positions, PnL, risk and kill-switch state, as a deterministic engine.

    from core.oms.engine import OmsEngine
    engine = OmsEngine(catalog, risk_config, outputs, fees=FeeSchedule.from_venues(venues),
                       venue_ids=venue_ids(venues))
    engine.on_message(recv_ts, sbe_bytes)      # every input, at the time the host stamped on it
    engine.next_deadline()                     # when to tick it (wal.clock_tick) if nothing arrives

Modules: engine (dispatch, time), order_flow (new/cancel/replace requests), venue_reports (execution
reports), control (kill switch, cancel-all, SetLimit, dead-man, daily loss), flatten, queries (query
answers, pagination, periodic status), orders (state machine), positions and ledger (exact PnL), daily
(the trading day), wal (what is journaled, replay), reference (mids from the md stream), outputs (the
sink protocol), wire (encoding), fees, money (Decimal64), timers.
"""
