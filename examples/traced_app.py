"""The same kind of app with its own steps traced by the optional decorators.

``@trace`` spans become parents of the OpenAI spans the agent records.
"""

from openai import OpenAI

from honeyhive_agent import enrich_session, enrich_span, trace

client = OpenAI()


@trace(event_type="tool")
def retrieve(query: str) -> list[str]:
    return ["Paris has been France's capital since 987.", "The Seine flows through Paris."]


@trace(event_type="chain", metadata={"pipeline": "rag-v1"})
def answer(question: str) -> str:
    docs = retrieve(question)
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Answer from the documents: " + " ".join(docs)},
            {"role": "user", "content": question},
        ],
    )
    text = response.choices[0].message.content or ""
    enrich_span(metrics={"documents": len(docs)})
    return text


if __name__ == "__main__":
    print(answer("What is the capital of France?"))
    enrich_session(metadata={"example": "traced_app"})
