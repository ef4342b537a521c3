export default function LogSearch() { return <h1>LogSearch</h1>; }
