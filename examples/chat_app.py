"""An ordinary OpenAI app. Nothing in it knows about tracing.

Run it under the agent: ``honeyhive-run python examples/chat_app.py``
(``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` as for any OpenAI app).
"""

from openai import OpenAI

client = OpenAI()


def ask(question: str) -> str:
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You answer in one sentence."},
            {"role": "user", "content": question},
        ],
        temperature=0.2,
    )
    return response.choices[0].message.content or ""


def haiku(topic: str) -> str:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Write a haiku about {topic}."}],
        stream=True,
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


if __name__ == "__main__":
    print("Q: What is the capital of France?")
    print("A:", ask("What is the capital of France?"))
    print("Haiku:", haiku("tracing"))
