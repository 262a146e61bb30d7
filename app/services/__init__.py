"""Use cases: the only place that joins the database, the problem bank and the grader."""
