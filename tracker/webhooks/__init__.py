"""Live gifts: Stripe's and PayPal's webhooks, each gift counted once with every file import.

- verify: the deliveries' signatures (Stripe's signed header, PayPal's transmission signature);
- receive: check a delivery and store it in the inbox, then answer; never apply on the request;
- inbox: the stored events, claimed by one worker at a time, retried with backoff, replayable;
- events: what each event means for the gifts (pure, tolerant of fields it does not know);
- worker: applying events through the same loader and rules as file imports.
"""
