"""The five grading scales of the papers, one plugin module each (plain data, no torch)."""
