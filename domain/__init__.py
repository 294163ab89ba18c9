"""The review's rules and vocabulary: pure decisions, no Temporal, HTTP or SQL.

Standard library only, so workflows import it inside the sandbox and its tests need neither a
server nor a database. A rule takes the current time (and the review's config and state) and
returns a decision, or a `Refusal` saying why not; callers turn refusals into their own errors.
"""
