"""Chapter 5.5: reinforcement learning on gymnasium — tabular Q-learning, DQN, REINFORCE, A2C."""
