phase = getCurrentPhase()
print phase.title
