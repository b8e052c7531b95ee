"""Generation: stage-1 diffusion, stage-2 leaf refinement, schedules, completion."""
