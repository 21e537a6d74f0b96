"""The clinician's tool as plain functions: grading a photo set, eFACE and Sunnybrook scores,
summaries, model grades, reports and recovery over visits. No gradio here: the page in ``ui/``,
the command line and the tests all call these functions."""
