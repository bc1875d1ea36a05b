# expect: none
import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.linspace(0, 1, 200).unsqueeze(1)
y = 3 * x ** 3 - 2 * x + 0.05 * torch.randn_like(x)

model = nn.Sequential(nn.Linear(1, 20), nn.Tanh(), nn.Linear(20, 1))
criterion = nn.MSELoss()
optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=20, history_size=10)

for step in range(30):
    def closure():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    print(f"step {step}: loss {loss.item():.6f}")

model.eval()
with torch.no_grad():
    print("prediction at 0.5:", model(torch.tensor([[0.5]])).item())
