"""`northstar init`: from a raw event export to a starter vars file (mapping, dates and a
proposed spec). `profile` reads a sample and guesses each column's role; `proposal`
turns that into the vars file; docs/onboarding.md walks through it."""
