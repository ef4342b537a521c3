export default function ActionGroups() { return <h1>ActionGroups</h1>; }
