"""Personal data: which columns hold it, how a person is erased, and no committed secrets.

- `catalog`: the classification, read from the dbt project's `meta` tags
  (`pii`, `pii_category`) and checked against what the warehouse really holds.
- `identifiers`: normalised identifiers, keyed hashes and pseudonyms.
- `subjects`: from a member key or a source record to every record merged into it.
- `register`: the erasure register and audit log in schema `ops`.
- `enforce`: applies the register to raw rows and quarantined text (at erasure
  and again inside every landing batch, so an erased person never comes back).
- `erasure`: `ronghe privacy erase`, through every layer.
- `secrets`: the repository scan for committed keys, tokens and passwords.

Documentation: docs/privacy.md.
"""
